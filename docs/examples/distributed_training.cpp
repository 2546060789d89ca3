// Data-parallel training over MPI (docs/distributed.md): run with `mpirun -np N` for any N from 1
// to the number of shards; every N prints the same numbers, to the last digit, and the same as one
// process with the same shards. Built where dagprop::distributed is (MPI found).
#include <bit>
#include <cstdint>
#include <cstdio>

#include <dagprop/dagprop.hpp>
#include <dagprop/distributed/mpi_collective.hpp>

int main(int argc, char** argv) {
  using namespace dagprop;
  dagprop::distributed::MpiSession mpi(argc, argv);
  const data::Dataset train = data::make_moons({.samples = 640, .noise = 0.1, .seed = 1});
  const data::Dataset test = data::make_moons({.samples = 200, .noise = 0.1, .seed = 2});

  dagprop::nn::TrainOptions options;
  options.hidden = {16, 16};
  options.activation = "tanh";
  options.optimizer_settings.learning_rate = 0.02;
  options.epochs = 8;
  options.batch_size = 128;
  options.shards = 8;  // any number of ranks from 1 to 8 gives the same bits
  dagprop::nn::Trainer trainer(train, test, options, nullptr, &mpi.world());
  const auto history = trainer.fit();  // on every rank; rank 0 writes the files
  if (mpi.world().rank() == 0) {
    const double loss = history.epochs.back().test.loss;
    std::printf("test accuracy %.3f, test loss %.17g (bits %016llx)\n",
                history.epochs.back().test.accuracy, loss,
                static_cast<unsigned long long>(std::bit_cast<std::uint64_t>(loss)));
  }
}
