// Compiled with -std=c++17: the first error must be oneshot's own "oneshot requires C++20".
#include <oneshot/oneshot.hpp>

int main() {}
