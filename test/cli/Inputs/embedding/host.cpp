// The header of counters.dfir from C++ (test/cli/embedding.test): it
// compiles as C++, and a lambda serves as a callback.
#include "counters.h"

#include <cstdio>
#include <string>
#include <vector>

int main() {
  dfir_instance *inst = counters_create();
  if (!inst) return 1;
  std::vector<std::string> keys;
  counters_on_changes(
      inst, [](void *context, const counters_changes_item *c) {
        static_cast<std::vector<std::string> *>(context)->push_back(std::string(c->key.ptr, c->key.len));
      },
      &keys);
  counters_on_pings(inst, [](void *, const counters_pings_item *) {}, nullptr);
  counters_Cmd cmd{};
  cmd.tag = counters_Cmd_Remove;
  cmd.as.Remove._0 = dfir_str{"from C++", 8};
  counters_push_commands(inst, &cmd);
  dfir_instance_run(inst);
  for (auto &k : keys) std::printf("c++ saw: %s\n", k.c_str());
  dfir_instance_free(inst);
  return 0;
}
