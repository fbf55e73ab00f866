// A channel carries values, not references.
#include <oneshot/oneshot.hpp>

int main() {
    auto ends = oneshot::channel<int&>();
    (void)ends;
}
