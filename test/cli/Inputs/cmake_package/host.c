/* Links one location of a program, through dfir_add_library, and runs it. */
#include <words_main.h>

int main(int argc, char **argv) { return dfir_rt_main(&words_main_location, argc, argv); }
