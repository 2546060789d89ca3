// The Collective over MPI: each operation is one MPI collective on exact representations (32-bit
// maxima, 64-bit integer sums, doubles of which one rank holds the value), so whatever algorithm
// Open MPI picks (ring, tree, recursive doubling) and in whatever order the parts arrive, every
// rank gets the same bits.
#include <dagprop/distributed/mpi_collective.hpp>

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>

#include <dagprop/error.hpp>

namespace dagprop::distributed {
namespace {

void check(int status, const char* what) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw Error(std::string("MPI: ") + what + " failed: " + text);
}

// MPI counts are int: longer buffers go in pieces.
template <class T, class Call>
void in_pieces(std::span<T> values, Call call) {
  constexpr std::size_t kPiece = INT_MAX / 8;
  for (std::size_t first = 0; first < values.size(); first += kPiece) {
    call(values.data() + first, static_cast<int>(std::min(kPiece, values.size() - first)));
  }
}

class MpiCollective final : public nn::Collective {
 public:
  explicit MpiCollective(MPI_Comm comm) : comm_(comm) {
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void max_in_place(std::span<std::int32_t> values) override {
    payload_bytes_ += static_cast<std::int64_t>(values.size_bytes());
    in_pieces(values, [&](std::int32_t* data, int count) {
      check(MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_INT32_T, MPI_MAX, comm_), "MPI_Allreduce");
    });
  }
  void sum_in_place(std::span<std::int64_t> values) override {
    payload_bytes_ += static_cast<std::int64_t>(values.size_bytes());
    in_pieces(values, [&](std::int64_t* data, int count) {
      check(MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_INT64_T, MPI_SUM, comm_), "MPI_Allreduce");
    });
  }
  void combine_disjoint(std::span<double> values) override {
    // x + 0 = x exactly, in any order: a sum where one rank holds the value is that value.
    payload_bytes_ += static_cast<std::int64_t>(values.size_bytes());
    in_pieces(values, [&](double* data, int count) {
      check(MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_DOUBLE, MPI_SUM, comm_), "MPI_Allreduce");
    });
  }
  void broadcast(std::span<std::byte> bytes, int root) override {
    payload_bytes_ += static_cast<std::int64_t>(bytes.size());
    in_pieces(bytes, [&](std::byte* data, int count) {
      check(MPI_Bcast(data, count, MPI_BYTE, root, comm_), "MPI_Bcast");
    });
  }

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace

bool launched_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
}

struct MpiSession::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  std::unique_ptr<MpiCollective> world;
};

MpiSession::MpiSession(int& argc, char**& argv) : impl_(std::make_unique<Impl>()) {
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as codes (then dagprop::Error), not as MPI's default abort.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_dup(MPI_COMM_WORLD, &impl_->comm), "MPI_Comm_dup");
  impl_->world = std::make_unique<MpiCollective>(impl_->comm);
}

MpiSession::~MpiSession() {
  impl_->world.reset();
  MPI_Comm_free(&impl_->comm);
  MPI_Finalize();
}

nn::Collective& MpiSession::world() {
  return *impl_->world;
}

void MpiSession::abort(int status) {
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);
}

}  // namespace dagprop::distributed
