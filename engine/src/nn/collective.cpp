// The agreed start-up check and the helpers every rank calls alike.
#include <dagprop/nn/collective.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

namespace dagprop::nn {
namespace {

// FNV-1a: a fingerprint of the configuration text, equal on every rank for equal text.
std::uint64_t fingerprint(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

constexpr std::size_t kMessageBytes = 1024;

}  // namespace

std::int64_t split_point(std::int64_t count, int ranks, int rank) {
  return count * rank / ranks;
}

void agree_to_start(Collective& group, const std::string& local_failure,
                    const std::string& configuration) {
  const int ranks = group.size();
  const int me = group.rank();
  // Slot r of the first half: rank r failed; of the second: rank r's fingerprint. Each rank fills
  // only its own slots, so the sum is exact.
  std::vector<std::int64_t> slots(2 * static_cast<std::size_t>(ranks), 0);
  slots[static_cast<std::size_t>(me)] = local_failure.empty() ? 0 : 1;
  const std::uint64_t mine = fingerprint(configuration);
  std::int64_t as_signed = 0;
  std::memcpy(&as_signed, &mine, sizeof mine);
  slots[static_cast<std::size_t>(ranks + me)] = as_signed;
  group.sum_in_place(slots);

  std::vector<int> failed;
  for (int r = 0; r < ranks; ++r) {
    if (slots[static_cast<std::size_t>(r)] != 0) failed.push_back(r);
  }
  const std::string of = " of " + std::to_string(ranks);
  if (!failed.empty()) {
    std::vector<std::byte> message(kMessageBytes, std::byte{0});
    if (me == failed.front()) {
      std::memcpy(message.data(), local_failure.data(),
                  std::min(local_failure.size(), kMessageBytes - 1));
    }
    group.broadcast(message, failed.front());
    std::string others;
    for (std::size_t i = 1; i < failed.size(); ++i)
      others += (others.empty() ? "" : ", ") + std::to_string(failed[i]);
    throw CollectiveError(
        "rank " + std::to_string(failed.front()) + of +
        " cannot start: " + std::string(reinterpret_cast<const char*>(message.data())) +
        (others.empty() ? "" : " (ranks " + others + " failed too)") + "; every rank stops");
  }
  std::string differing;
  for (int r = 1; r < ranks; ++r) {
    if (slots[static_cast<std::size_t>(ranks + r)] != slots[static_cast<std::size_t>(ranks)])
      differing += (differing.empty() ? "" : ", ") + std::to_string(r);
  }
  if (!differing.empty()) {
    const bool one = differing.find(',') == std::string::npos;
    throw CollectiveError((one ? "rank " : "ranks ") + differing + of + (one ? " runs" : " run") +
                          " a configuration other than rank 0's (the model, its dtype, the "
                          "seed, the data or the options differ); start every rank with the same "
                          "command, data and dagprop build");
  }
}

bool any_rank(Collective& group, bool mine) {
  std::int32_t flag = mine ? 1 : 0;
  group.max_in_place(std::span<std::int32_t>(&flag, 1));
  return flag != 0;
}

}  // namespace dagprop::nn
