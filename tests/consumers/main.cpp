// TEMPORARY development main (version header only) until the channel header lands.
#include <oneshot/version.hpp>
int main() { return ONESHOT_VERSION == 100 ? 0 : 1; }
