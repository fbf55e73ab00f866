// Harness self-check: two errors, in this order.
#error "the first error"
#error "the second error"
