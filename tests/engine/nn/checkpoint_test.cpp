// Checkpoints: a run stopped at any step and resumed from its checkpoint file ends with the same
// bits as one never stopped; the file is written atomically and read as untrusted input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include <dagprop/data/synthetic.hpp>
#include <dagprop/error.hpp>
#include <dagprop/nn/checkpoint.hpp>
#include <dagprop/nn/trainer.hpp>

#include "support/temp_dir.hpp"

namespace dagprop::nn {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

struct Moons {
  data::Dataset train = data::make_moons({.samples = 300, .noise = 0.1, .seed = 1});
  data::Dataset test = data::make_moons({.samples = 110, .noise = 0.1, .seed = 2});
  data::Dataset validation = data::make_moons({.samples = 50, .noise = 0.1, .seed = 3});
};

TrainOptions options_for(const std::string& optimizer) {
  TrainOptions o;
  o.hidden = {8, 6};
  o.activation = "tanh";
  o.optimizer = optimizer;
  o.optimizer_settings = {.learning_rate = 0.05, .momentum = 0.9, .weight_decay = 0.01};
  o.schedule = "cosine";
  o.epochs = 3;
  o.batch_size = 32;  // 9 steps per epoch
  o.eval_batch_size = 40;
  o.seed = 4;
  return o;
}

std::vector<std::byte> bytes_of(const TensorView& t) {
  const auto* begin = static_cast<const std::byte*>(t.raw());
  return {begin, begin + t.nbytes()};
}

void expect_same_history(const TrainHistory& a, const TrainHistory& b) {
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (std::size_t e = 0; e < a.epochs.size(); ++e) {
    // Exact equality on purpose: a resumed run must give the same bits.
    EXPECT_EQ(a.epochs[e].train_loss, b.epochs[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].train_accuracy, b.epochs[e].train_accuracy) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].test.loss, b.epochs[e].test.loss) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].test.accuracy, b.epochs[e].test.accuracy) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].learning_rate, b.epochs[e].learning_rate) << "epoch " << e + 1;
    ASSERT_EQ(a.epochs[e].validation.has_value(), b.epochs[e].validation.has_value());
    if (a.epochs[e].validation) {
      EXPECT_EQ(a.epochs[e].validation->loss, b.epochs[e].validation->loss);
    }
  }
}

void expect_same_parameters(const Trainer& a, const Trainer& b) {
  const std::vector<Expr> pa = a.parameters(), pb = b.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(bytes_of(pa[i].value()), bytes_of(pb[i].value())) << "parameter " << i;
  }
}

// Stops after `stop_at` steps, writes the checkpoint through its file text, and resumes in a new
// trainer (as a new process would), then compares with an uninterrupted run.
void expect_resume_is_bitwise_equal(const TrainOptions& o, std::int64_t stop_at) {
  const Moons data;
  Trainer whole(data.train, data.test, o, &data.validation);
  const TrainHistory expected = whole.fit();
  ASSERT_TRUE(expected.complete);

  std::string text;
  {
    Trainer first(data.train, data.test, o, &data.validation);
    std::int64_t steps = 0;
    const TrainHistory partial = first.fit({.on_step = [&](const StepReport&) { ++steps; },
                                            .stop_requested = [&] { return steps == stop_at; }});
    ASSERT_FALSE(partial.complete);
    text = write_checkpoint(first.checkpoint("{\"run\": 1}"));
  }
  const Checkpoint checkpoint = read_checkpoint(text, "memory");
  EXPECT_EQ(checkpoint.global_step, stop_at);
  EXPECT_EQ(checkpoint.run_settings, "{\"run\": 1}");
  Trainer second(data.train, data.test, o, &data.validation);
  second.restore(checkpoint);
  const TrainHistory resumed = second.fit();
  ASSERT_TRUE(resumed.complete);
  expect_same_history(expected, resumed);
  expect_same_parameters(whole, second);
}
void expect_resume_is_bitwise_equal(const std::string& optimizer, std::int64_t stop_at) {
  expect_resume_is_bitwise_equal(options_for(optimizer), stop_at);
}

TEST(Checkpoint, AdamRunResumedMidEpochEndsBitwiseEqualToAnUninterruptedRun) {
  expect_resume_is_bitwise_equal("adam", 13);
}

TEST(Checkpoint, AModelWithBatchNormAndDropoutResumesWithItsRunningStatisticsAndMasks) {
  // The running statistics and the dropout step are state beyond the parameters: a resumed run
  // that lost them would evaluate and drop differently.
  TrainOptions o = options_for("adam");
  o.model = "dense 16, batchnorm, relu, dropout 0.3, dense 2";
  expect_resume_is_bitwise_equal(o, 11);
}

TEST(Checkpoint, SgdRunResumedMidEpochEndsBitwiseEqualToAnUninterruptedRun) {
  expect_resume_is_bitwise_equal("sgd", 5);
}

TEST(Checkpoint, AdamWRunResumedAtTheLastStepOfAnEpochEndsBitwiseEqual) {
  // Step 18 ends epoch 2 before its evaluation: the resumed run evaluates it.
  expect_resume_is_bitwise_equal("adamw", 18);
}

TEST(Checkpoint, RunResumedAtTheVeryLastStepEndsBitwiseEqual) {
  expect_resume_is_bitwise_equal("adam", 27);
}

TEST(Checkpoint, ResumedRunGivesTheSameLastTrainingBatch) {
  const Moons data;
  const TrainOptions o = options_for("adam");
  Trainer whole(data.train, data.test, o);
  whole.fit();
  Trainer first(data.train, data.test, o);
  std::int64_t steps = 0;
  first.fit({.on_step = [&](const StepReport&) { ++steps; },
             .stop_requested = [&] { return steps == 20; }});
  Trainer second(data.train, data.test, o);
  second.restore(read_checkpoint(write_checkpoint(first.checkpoint("")), "memory"));
  second.fit();
  EXPECT_EQ(bytes_of(whole.last_training_batch().first),
            bytes_of(second.last_training_batch().first));
}

TEST(Checkpoint, RestoreRefusesACheckpointOfAnotherModel) {
  const Moons data;
  TrainOptions o = options_for("adam");
  Trainer first(data.train, data.test, o);
  const Checkpoint checkpoint = first.checkpoint("");
  o.hidden = {8, 5};
  Trainer other(data.train, data.test, o);
  try {
    other.restore(checkpoint);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("cannot resume from this checkpoint: parameter 2 is "
                          "'layer2/W' [8, 6] float32 there but 'layer2/W' [8, 5] float32"));
  }
}

TEST(Checkpoint, RestoreRefusesAnotherSeedOptimizerOrLength) {
  const Moons data;
  const TrainOptions o = options_for("adam");
  Trainer first(data.train, data.test, o);
  const Checkpoint checkpoint = first.checkpoint("");
  auto error_with = [&](TrainOptions changed) {
    Trainer other(data.train, data.test, changed);
    try {
      other.restore(checkpoint);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  TrainOptions seed = o, optimizer = o, epochs = o;
  seed.seed = 5;
  optimizer.optimizer = "sgd";
  epochs.epochs = 4;
  EXPECT_THAT(error_with(seed), HasSubstr("its batch order comes from another seed"));
  EXPECT_THAT(error_with(optimizer), HasSubstr("optimizer 'adam', this run uses 'sgd'"));
  EXPECT_THAT(error_with(epochs), HasSubstr("a run of 3 epochs, this one has 4"));
}

// ---------------------------------------------------------------- the file as untrusted input

std::string small_checkpoint_text() {
  const Moons data;
  Trainer trainer(data.train, data.test, options_for("adam"));
  std::int64_t steps = 0;
  trainer.fit({.on_step = [&](const StepReport&) { ++steps; },
               .stop_requested = [&] { return steps == 10; }});
  return write_checkpoint(trainer.checkpoint("settings"));
}

std::string error_reading(const std::string& text) {
  try {
    read_checkpoint(text, "ck.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(CheckpointFile, TextRoundTripsToTheSameText) {
  const std::string text = small_checkpoint_text();
  EXPECT_EQ(write_checkpoint(read_checkpoint(text, "memory")), text);
}

TEST(CheckpointFile, AFlippedBitInTensorDataIsRejectedNamingTheTensor) {
  std::string text = small_checkpoint_text();
  const std::size_t data = text.find("\"data\": \"");
  ASSERT_NE(data, std::string::npos);
  char& c = text[data + 12];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_THAT(error_reading(text),
              HasSubstr("parameters[0].crc32 does not match the data of tensor 'layer1/W'"));
}

TEST(CheckpointFile, TruncatedFileIsNotValidJson) {
  const std::string text = small_checkpoint_text();
  EXPECT_THAT(error_reading(text.substr(0, text.size() / 2)), HasSubstr("is not valid JSON"));
}

TEST(CheckpointFile, UnknownMissingAndMistypedFieldsAreNamed) {
  const std::string text = small_checkpoint_text();
  std::string unknown = text, mistyped = text;
  unknown.replace(unknown.find("\"epochs\""), 8, "\"epochz\"");
  EXPECT_THAT(error_reading(unknown), HasSubstr("epochz is not a field of a checkpoint"));
  const std::size_t value = mistyped.find("\"step\": ") + 8;
  mistyped.replace(value, mistyped.find(',', value) - value, "\"x\"");
  EXPECT_THAT(error_reading(mistyped), HasSubstr(": step must be a whole number"));
  EXPECT_THAT(error_reading("{\"format\": \"dagprop-checkpoint\"}"),
              HasSubstr("version is missing"));
  EXPECT_THAT(error_reading("[1, 2]"), HasSubstr("must be an object"));
}

TEST(CheckpointFile, NewerVersionIsRefused) {
  std::string text = small_checkpoint_text();
  text.replace(text.find("\"version\": 1"), 12, "\"version\": 9");
  EXPECT_THAT(error_reading(text), HasSubstr("version is 9, newer than this dagprop reads (1)"));
}

TEST(CheckpointFile, DeclaredSizesAreCheckedBeforeAllocating) {
  const std::string head =
      "{\"format\": \"dagprop-checkpoint\", \"version\": 1, \"run_settings\": \"\", \"epochs\": 1, "
      "\"epoch\": 0, \"step\": 0, \"global_step\": 0, \"epoch_loss_sum\": 0, \"epoch_correct\": 0, "
      "\"batch_seed\": 1, \"learning_rate\": 0.1, \"optimizer\": \"sgd\", \"optimizer_steps\": 0, "
      "\"finished_epochs\": [], \"optimizer_state\": [], \"parameters\": [{\"name\": \"W\", "
      "\"dtype\": \"float32\", \"crc32\": 0, ";
  EXPECT_THAT(error_reading(head + "\"shape\": [65536, 65536, 65536], \"data\": \"\"}]}"),
              HasSubstr("parameters[0].shape declares more than 4294967296 elements"));
  EXPECT_THAT(error_reading(head + "\"shape\": [1000, 1000], \"data\": \"AAAA\"}]}"),
              HasSubstr("holds 4 base64 characters, but 4000000 bytes of float32 need 5333336"));
  EXPECT_THAT(error_reading(head + "\"shape\": [2, -1], \"data\": \"\"}]}"),
              HasSubstr("must hold whole numbers >= 0"));
  EXPECT_THAT(error_reading(head + "\"shape\": [1], \"data\": \"AAAAAAAAAAAA\"}]}"),
              HasSubstr("holds 12 base64 characters, but 4 bytes of float32 need 8"));
}

TEST(CheckpointFile, DeeplyNestedJsonIsAnErrorNotACrash) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_THAT(error_reading(deep), HasSubstr("must be an object"));
}

TEST(CheckpointFile, SaveReplacesTheFileAtomicallyAndLeavesNoTemporary) {
  const TempDir dir;
  const std::string path = dir.file("checkpoint.json");
  const std::string text = small_checkpoint_text();
  const Checkpoint checkpoint = read_checkpoint(text, "memory");
  dir.write("checkpoint.json", "old");
  save_checkpoint(checkpoint, path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(write_checkpoint(load_checkpoint(path)), text);
}

TEST(CheckpointFile, SaveIntoAMissingFolderNamesThePath) {
  const Checkpoint checkpoint = read_checkpoint(small_checkpoint_text(), "memory");
  try {
    save_checkpoint(checkpoint, "/no/such/folder/checkpoint.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/no/such/folder/checkpoint.json.tmp': No such file"));
  }
}

TEST(CheckpointFile, OversizedOrMissingFileIsRefusedBeforeReading) {
  const TempDir dir;
  dir.write("big.json", std::string(100, ' '));
  EXPECT_THROW(load_checkpoint(dir.file("big.json"), 10), Error);
  try {
    load_checkpoint(dir.file("none.json"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot read checkpoint"));
  }
}

}  // namespace
}  // namespace dagprop::nn
