// A channel cannot carry a const type: the receiver moves the message out.
#include <oneshot/oneshot.hpp>

int main() {
    auto ends = oneshot::channel<const int>();
    (void)ends;
}
