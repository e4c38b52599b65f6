// Embedded runs (runtime/rt_system.c) driven by hand-written locations, so
// that shapes too large for the compiler's tests stay cheap.
#include "dfir_rt.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

constexpr uint32_t kRing = 2000;
std::vector<int64_t> received; // per member: the value it got, or -1

// Member m sends its id on channel m to member m + 1 (mod kRing), and
// records what arrives on channel m - 1.
int ringTick(void *state) {
  auto *sent = static_cast<int *>(state);
  uint32_t me = dfir_rt_member_id();
  if (!*sent) {
    int64_t value = me;
    dfir_rt_send(me, "ring", 1, 0, (me + 1) % kRing, &value, sizeof value);
    *sent = 1;
  }
  const void *bytes;
  uint64_t len;
  uint32_t sender;
  while (dfir_rt_recv((me + kRing - 1) % kRing, &bytes, &len, &sender)) {
    EXPECT_EQ(len, sizeof(int64_t));
    EXPECT_EQ(sender, (me + kRing - 1) % kRing);
    std::memcpy(&received[me], bytes, sizeof(int64_t));
  }
  return 0;
}

void ringInit(void *) {}

// 2000 instances and 2000 channels: the queues follow the channels used
// (a table of every channel by every pair of instances was 128 GB).
TEST(System, ManyInstancesAndChannelsNeedNoQuadraticTable) {
  received.assign(kRing, -1);
  dfir_location ring{};
  ring.name = "ring";
  ring.state_size = sizeof(int);
  ring.init = ringInit;
  ring.tick = ringTick;
  ring.nlocations = 1;
  ring.nchannels = kRing;
  ring.cluster_size = kRing;
  const dfir_location *locations[] = {&ring};
  uint32_t counts[] = {kRing};
  ASSERT_EQ(dfir_rt_run_system(locations, counts, 1, kRing, 7), 0);
  for (uint32_t m = 0; m < kRing; ++m) EXPECT_EQ(received[m], int64_t((m + kRing - 1) % kRing)) << "member " << m;
}

} // namespace
