/* Two programs linked into one executable: each location object exports
 * only its descriptor, named by its prefix; the host picks one to run. */
#include <dfir_rt.h>
#include <string.h>

extern const dfir_location one_main_location;
extern const dfir_location second_location;

int main(int argc, char **argv) {
  const dfir_location *which = argc > 1 && strcmp(argv[1], "two") == 0 ? &second_location : &one_main_location;
  return dfir_rt_main(which, 1, argv);
}
