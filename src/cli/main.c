/* placeholder, replaced by the CLI */
#include "nis/core.h"
int main(void) { return 0; }
