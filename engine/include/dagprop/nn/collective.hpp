// Collective: what data-parallel training needs of a group of processes (ranks), and the one-rank
// group that single-process training uses, so that both run the same code and give the same bits.
// The MPI implementation lives in dagprop::distributed (<dagprop/distributed/mpi_collective.hpp>);
// nothing here links MPI. Every operation is exact whatever order the ranks' parts are combined in:
// maxima, integer sums, and sums of doubles of which at most one rank holds a nonzero per element.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <dagprop/error.hpp>
#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

// An error that every rank of a group raises alike (an agreed check failed), so no rank is left
// waiting in a collective: the program can end normally, on every rank, with this message.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Element-wise, over the ranks, in place; every rank passes as many values.
  virtual void max_in_place(std::span<std::int32_t> values) = 0;
  virtual void sum_in_place(std::span<std::int64_t> values) = 0;
  // Each element is nonzero on at most one rank: the result is that rank's value, exactly.
  virtual void combine_disjoint(std::span<double> values) = 0;
  // rank `root`'s bytes to every rank.
  virtual void broadcast(std::span<std::byte> bytes, int root) = 0;
  // The bytes this rank has given to collectives so far (their payload; what the network carries
  // for it depends on the algorithm, docs/distributed.md).
  std::int64_t payload_bytes() const { return payload_bytes_; }

 protected:
  std::int64_t payload_bytes_ = 0;
};

// The group of one: every operation leaves the values as they are.
class SingleProcess final : public Collective {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void max_in_place(std::span<std::int32_t>) override {}
  void sum_in_place(std::span<std::int64_t>) override {}
  void combine_disjoint(std::span<double>) override {}
  void broadcast(std::span<std::byte>, int) override {}
};

// The first of `count` items that rank `rank` of `ranks` owns, in contiguous ranges of sizes that
// differ by at most one, in rank order: items [split_point(r), split_point(r + 1)).
std::int64_t split_point(std::int64_t count, int ranks, int rank);

// Start-up check, called by every rank: `local_failure` is empty or why this rank cannot start (a
// dataset it could not read, options it refused), `configuration` what must be equal everywhere
// (the model, its dtype, the seed, the data's sizes, the options). Throws CollectiveError on every
// rank, naming the first failing rank and its cause, or the ranks whose configuration differs
// from rank 0's.
void agree_to_start(Collective& group, const std::string& local_failure,
                    const std::string& configuration);

// True on every rank if `mine` is true on any (a stop request that must end every rank at the same
// step).
bool any_rank(Collective& group, bool mine);

}  // namespace dagprop::nn
DAGPROP_API_END
