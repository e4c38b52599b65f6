// A C++ program that embeds the location of orders.dfir
// (examples/embed-cmake): it pushes orders in, keeps the totals the
// location hands back, and checks them.
#include "orders.h"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

struct Results {
  std::map<std::string, long long> totals;
  std::vector<std::string> refused;
};

std::string text(dfir_str s) { return std::string(s.ptr, s.len); }

} // namespace

int main() {
  dfir_instance *book = orders_create();
  if (!book) {
    std::fprintf(stderr, "orders: %s\n", dfir_last_error());
    return 1;
  }
  Results results;
  orders_on_totals(
      book, [](void *r, const orders_totals_item *t) { static_cast<Results *>(r)->totals[text(t->_0)] = t->_1; },
      &results);
  orders_on_refused(
      book, [](void *r, const dfir_str *why) { static_cast<Results *>(r)->refused.push_back(text(*why)); },
      &results);

  struct { const char *customer, *item; long long quantity; } input[] = {
      {"ann", "tea", 2}, {"bob", "cake", 1}, {"ann", "tea", 3}, {"cy", "cake", -1}, {"bob", "jam", 4}};
  int tick = 0;
  for (auto &o : input) {
    std::string customer = o.customer, item = o.item; // the push copies them
    orders_Order order{{customer.data(), customer.size()}, {item.data(), item.size()}, o.quantity};
    orders_push_orders(book, &order);
    if (++tick % 2 == 0) dfir_instance_tick(book); // some ticks see two orders
  }
  dfir_instance_run(book);
  dfir_instance_free(book);

  for (auto &[item, total] : results.totals) std::printf("%s: %lld\n", item.c_str(), total);
  for (auto &why : results.refused) std::printf("refused: %s\n", why.c_str());
  bool ok = results.totals == std::map<std::string, long long>{{"cake", 1}, {"jam", 4}, {"tea", 5}} &&
            results.refused == std::vector<std::string>{"cy ordered -1 of cake"};
  std::printf("%s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
