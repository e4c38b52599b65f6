/* Compiles against the installed runtime header and links its archive. */
#include <dfir_rt.h>
#include <stdio.h>

int main(void) {
  printf("runtime error status %d\n", DFIR_RT_EXIT_RUNTIME_ERROR);
  return 0;
}
