// Compressed rows: items grouped by a small integer key into one array plus offsets (the layout of
// a CSR matrix), built by a counting sort. The task partition and the memory plan keep their
// per-task and per-step lists this way. Private to engine/.
#pragma once

#include <cstdint>
#include <vector>

namespace dagprop {

// Fills `offsets` (num_keys + 1 entries) and `rows`: rows[offsets[k] .. offsets[k + 1]) are the
// values emitted with key k, in the order they were emitted. `for_each_item(emit)` must call
// emit(key, value) for the same items in the same order each time: it is called twice, to count
// and to place.
template <class ForEachItem>
void group_into_rows(std::uint32_t num_keys, ForEachItem&& for_each_item,
                     std::vector<std::uint32_t>& offsets, std::vector<std::uint32_t>& rows) {
  offsets.assign(std::size_t{num_keys} + 1, 0);
  for_each_item([&](std::uint32_t key, std::uint32_t) { ++offsets[key + 1]; });
  for (std::uint32_t k = 0; k < num_keys; ++k) offsets[k + 1] += offsets[k];
  rows.resize(offsets[num_keys]);
  std::vector<std::uint32_t> next(offsets.begin(), offsets.end() - 1);
  for_each_item([&](std::uint32_t key, std::uint32_t value) { rows[next[key]++] = value; });
}

}  // namespace dagprop
