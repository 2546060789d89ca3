// Checkpoint files: JSON with exact doubles (nlohmann writes the shortest text that reads back to
// the same bits), tensors as base64 of their bytes with a CRC-32 (zlib) so that a flipped bit is
// found rather than trained on. Read like graph files: nothing in the file is trusted.
#include <dagprop/nn/checkpoint.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include <dagprop/error.hpp>

#include "../base64.hpp"

namespace dagprop::nn {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kFormat = "dagprop-checkpoint";
// No tensor of a trainer comes near this; a file claiming more is refused before allocating.
constexpr std::int64_t kMaxElements = std::int64_t{1} << 32;

std::uint32_t crc_of(const Tensor& t) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* bytes = static_cast<const Bytef*>(t.view().raw());
  std::size_t left = t.nbytes();
  while (left > 0) {  // crc32 takes a uInt length
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(left, 1U << 30));
    crc = crc32(crc, bytes, chunk);
    bytes += chunk;
    left -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

Json tensor_json(const NamedTensor& t) {
  Json shape = Json::array();
  for (const std::int64_t d : t.tensor.shape().dims()) shape.push_back(d);
  const auto* bytes = static_cast<const std::byte*>(t.tensor.view().raw());
  return {{"name", t.name},
          {"dtype", std::string(dtype_name(t.tensor.dtype()))},
          {"shape", shape},
          {"crc32", crc_of(t.tensor)},
          {"data", base64::encode({bytes, t.tensor.nbytes()})}};
}

Json epoch_json(const CheckpointEpoch& e) {
  Json j = {{"epoch", e.epoch},
            {"learning_rate", e.learning_rate},
            {"train_loss", e.train_loss},
            {"train_accuracy", e.train_accuracy}};
  if (e.has_validation) {
    j["validation_loss"] = e.validation_loss;
    j["validation_accuracy"] = e.validation_accuracy;
  }
  j["test_loss"] = e.test_loss;
  j["test_accuracy"] = e.test_accuracy;
  j["seconds"] = e.seconds;
  return j;
}

// Reads fields of one JSON object, each with its expected type, naming the path on failure.
class Reader {
 public:
  Reader(const std::string& source, const Json& object, std::string path)
      : source_(source), object_(object), path_(std::move(path)) {
    if (!object_.is_object()) fail(path_, "must be an object");
  }

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw Error("checkpoint '" + source_ + "': " + field + " " + what +
                "; the file is damaged or not a dagprop checkpoint (write a new one with dagprop "
                "train --checkpoint-every, or start the run again)");
  }

  // Every key must be one of `allowed`: a misspelled field is not silently ignored.
  void check_keys(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : object_.items()) {
      bool known = false;
      for (const std::string_view a : allowed) known = known || key == a;
      if (!known) fail(field(key), "is not a field of a checkpoint");
    }
  }

  std::string field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  bool has(std::string_view key) const { return object_.contains(key); }
  const Json& at(std::string_view key) const {
    const auto it = object_.find(key);
    if (it == object_.end()) fail(field(key), "is missing");
    return *it;
  }
  std::string text(std::string_view key) const {
    const Json& v = at(key);
    if (!v.is_string()) fail(field(key), "must be a string");
    return v.get<std::string>();
  }
  double number(std::string_view key) const {
    const Json& v = at(key);
    if (!v.is_number()) fail(field(key), "must be a number");
    return v.get<double>();
  }
  std::int64_t integer(std::string_view key, std::int64_t low, std::int64_t high) const {
    const Json& v = at(key);
    if (!v.is_number_integer()) fail(field(key), "must be a whole number");
    if (v.is_number_unsigned() &&
        v.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(field(key), "is out of range");
    }
    const auto value = v.get<std::int64_t>();
    if (value < low || value > high) {
      fail(field(key), "is " + std::to_string(value) + ", outside " + std::to_string(low) + ".." +
                           std::to_string(high));
    }
    return value;
  }
  std::uint64_t unsigned_integer(std::string_view key) const {
    const Json& v = at(key);
    if (!v.is_number_unsigned()) fail(field(key), "must be a whole number >= 0");
    return v.get<std::uint64_t>();
  }
  const Json& array(std::string_view key) const {
    const Json& v = at(key);
    if (!v.is_array()) fail(field(key), "must be an array");
    return v;
  }

 private:
  const std::string& source_;
  const Json& object_;
  std::string path_;
};

NamedTensor read_tensor(const std::string& source, const Json& j, const std::string& path) {
  const Reader r(source, j, path);
  r.check_keys({"name", "dtype", "shape", "crc32", "data"});
  NamedTensor t;
  t.name = r.text("name");
  const std::string dtype = r.text("dtype");
  const std::string_view f32 = dtype_name(DType::f32), f64 = dtype_name(DType::f64);
  if (dtype != f32 && dtype != f64) {
    r.fail(r.field("dtype"),
           "is '" + dtype + "', not " + std::string(f32) + " or " + std::string(f64));
  }
  const Json& dims = r.array("shape");
  if (dims.size() > static_cast<std::size_t>(Shape::kMaxRank)) {
    r.fail(r.field("shape"), "has " + std::to_string(dims.size()) + " axes (at most " +
                                 std::to_string(Shape::kMaxRank) + ")");
  }
  std::vector<std::int64_t> shape;
  std::int64_t numel = 1;
  for (std::size_t k = 0; k < dims.size(); ++k) {
    if (!dims[k].is_number_unsigned()) r.fail(r.field("shape"), "must hold whole numbers >= 0");
    const std::uint64_t d = dims[k].get<std::uint64_t>();
    if (d > static_cast<std::uint64_t>(kMaxElements) ||
        (d > 0 && numel > kMaxElements / static_cast<std::int64_t>(d))) {
      r.fail(r.field("shape"), "declares more than " + std::to_string(kMaxElements) + " elements");
    }
    numel *= static_cast<std::int64_t>(d);
    shape.push_back(static_cast<std::int64_t>(d));
  }
  const std::string data = r.text("data");
  const DType type = dtype == f32 ? DType::f32 : DType::f64;
  const std::size_t nbytes = static_cast<std::size_t>(numel) * dtype_size(type);
  // The length is checked before the tensor is allocated: a declared size the data cannot fill
  // costs nothing.
  if (data.size() != base64::encoded_length(nbytes)) {
    r.fail(r.field("data"), "holds " + std::to_string(data.size()) + " base64 characters, but " +
                                std::to_string(nbytes) + " bytes of " + dtype + " " + "need " +
                                std::to_string(base64::encoded_length(nbytes)));
  }
  t.tensor = Tensor(Shape(shape), type);
  if (!base64::decode(data, {static_cast<std::byte*>(t.tensor.view().raw()), nbytes})) {
    r.fail(r.field("data"), "is not valid base64");
  }
  const std::uint64_t crc = r.unsigned_integer("crc32");
  if (crc != crc_of(t.tensor)) {
    r.fail(r.field("crc32"), "does not match the data of tensor '" + t.name +
                                 "' (a bit has flipped or the file was edited)");
  }
  return t;
}

std::vector<NamedTensor> read_tensors(const std::string& source, const Reader& r,
                                      std::string_view key) {
  std::vector<NamedTensor> tensors;
  const Json& list = r.array(key);
  for (std::size_t i = 0; i < list.size(); ++i)
    tensors.push_back(read_tensor(source, list[i], r.field(key) + "[" + std::to_string(i) + "]"));
  return tensors;
}

void sync_or_throw(int fd, const std::string& what) {
  if (::fsync(fd) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    throw Error("cannot flush the checkpoint " + what + " to the disk: " + reason);
  }
}

}  // namespace

std::string write_checkpoint(const Checkpoint& c) {
  Json parameters = Json::array(), state = Json::array(), epochs = Json::array();
  for (const NamedTensor& t : c.parameters) parameters.push_back(tensor_json(t));
  for (const NamedTensor& t : c.optimizer_state) state.push_back(tensor_json(t));
  for (const CheckpointEpoch& e : c.finished_epochs) epochs.push_back(epoch_json(e));
  const Json root = {{"format", kFormat},
                     {"version", kCheckpointVersion},
                     {"run_settings", c.run_settings},
                     {"epochs", c.epochs},
                     {"epoch", c.epoch},
                     {"step", c.step},
                     {"global_step", c.global_step},
                     {"epoch_loss_sum", c.epoch_loss_sum},
                     {"epoch_correct", c.epoch_correct},
                     {"batch_seed", c.batch_seed},
                     {"learning_rate", c.learning_rate},
                     {"optimizer", c.optimizer},
                     {"optimizer_steps", c.optimizer_steps},
                     {"finished_epochs", epochs},
                     {"parameters", parameters},
                     {"optimizer_state", state}};
  return root.dump(1) + "\n";
}

Checkpoint read_checkpoint(std::string_view text, const std::string& source) {
  // No parse callback (it costs work per element): a checkpoint nests four levels, and the type
  // checks below refuse anything shaped otherwise.
  const Json root = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    throw Error("checkpoint '" + source +
                "' is not valid JSON (truncated or damaged); start the run again or use an older "
                "checkpoint");
  }
  const Reader r(source, root, "");
  r.check_keys({"format", "version", "run_settings", "epochs", "epoch", "step", "global_step",
                "epoch_loss_sum", "epoch_correct", "batch_seed", "learning_rate", "optimizer",
                "optimizer_steps", "finished_epochs", "parameters", "optimizer_state"});
  if (r.text("format") != kFormat) r.fail("format", "is not '" + std::string(kFormat) + "'");
  const std::int64_t version = r.integer("version", 1, std::numeric_limits<std::int64_t>::max());
  if (version > kCheckpointVersion) {
    r.fail("version", "is " + std::to_string(version) + ", newer than this dagprop reads (" +
                          std::to_string(kCheckpointVersion) + ")");
  }
  Checkpoint c;
  c.run_settings = r.text("run_settings");
  c.epochs = static_cast<int>(r.integer("epochs", 1, 100000));
  c.epoch = static_cast<int>(r.integer("epoch", 0, c.epochs));
  const std::int64_t big = std::int64_t{1} << 53;
  c.step = r.integer("step", 0, big);
  c.global_step = r.integer("global_step", c.step, big);
  c.epoch_loss_sum = r.number("epoch_loss_sum");
  c.epoch_correct = r.integer("epoch_correct", 0, big);
  c.batch_seed = r.unsigned_integer("batch_seed");
  c.learning_rate = r.number("learning_rate");
  c.optimizer = r.text("optimizer");
  c.optimizer_steps = r.integer("optimizer_steps", 0, big);
  const Json& epochs = r.array("finished_epochs");
  if (static_cast<std::int64_t>(epochs.size()) != c.epoch) {
    r.fail("finished_epochs",
           "holds " + std::to_string(epochs.size()) + " records, but the checkpoint is in epoch " +
               std::to_string(c.epoch + 1) + " (expected " + std::to_string(c.epoch) + ")");
  }
  for (std::size_t i = 0; i < epochs.size(); ++i) {
    const Reader e(source, epochs[i], "finished_epochs[" + std::to_string(i) + "]");
    e.check_keys({"epoch", "learning_rate", "train_loss", "train_accuracy", "validation_loss",
                  "validation_accuracy", "test_loss", "test_accuracy", "seconds"});
    CheckpointEpoch record;
    record.epoch = static_cast<int>(
        e.integer("epoch", static_cast<std::int64_t>(i) + 1, static_cast<std::int64_t>(i) + 1));
    record.learning_rate = e.number("learning_rate");
    record.train_loss = e.number("train_loss");
    record.train_accuracy = e.number("train_accuracy");
    record.has_validation = e.has("validation_loss") || e.has("validation_accuracy");
    if (record.has_validation) {
      record.validation_loss = e.number("validation_loss");
      record.validation_accuracy = e.number("validation_accuracy");
    }
    record.test_loss = e.number("test_loss");
    record.test_accuracy = e.number("test_accuracy");
    record.seconds = e.number("seconds");
    c.finished_epochs.push_back(record);
  }
  c.parameters = read_tensors(source, r, "parameters");
  c.optimizer_state = read_tensors(source, r, "optimizer_state");
  return c;
}

void save_checkpoint(const Checkpoint& checkpoint, const std::string& path) {
  const std::string text = write_checkpoint(checkpoint);
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error("cannot write the checkpoint '" + temporary + "': " + std::strerror(errno) +
                "; check that the output folder exists and is writable");
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = n < 0 ? std::strerror(errno) : "nothing written";
      ::close(fd);
      ::unlink(temporary.c_str());
      throw Error("writing the checkpoint '" + temporary + "' failed: " + reason +
                  " (disk full?); the previous checkpoint, if any, is untouched");
    }
    written += static_cast<std::size_t>(n);
  }
  sync_or_throw(fd, "'" + temporary + "'");
  ::close(fd);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw Error("cannot rename the checkpoint '" + temporary + "' to '" + path +
                "': " + std::strerror(errno));
  }
  // The rename itself is durable only once the folder's entry is on the disk.
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  const int dir = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

Checkpoint load_checkpoint(const std::string& path, std::size_t max_bytes) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) {
    throw Error("cannot read checkpoint '" + path + "': " + error.message() +
                "; give the output folder of an interrupted `dagprop train` run");
  }
  if (size > max_bytes) {
    throw Error("checkpoint '" + path + "' is " + std::to_string(size) +
                " bytes, over the limit of " + std::to_string(max_bytes) +
                "; it is not a checkpoint of a model this size");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (!in) throw Error("cannot read checkpoint '" + path + "': read error");
  return read_checkpoint(text, path);
}

}  // namespace dagprop::nn
