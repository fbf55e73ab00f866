// send_rc has no array form.
#include <oneshot/oneshot.hpp>

int main() {
    sendable::send_rc<int[]> rc;
    (void)rc;
}
