// io/jsonl_importer.cpp — import_jsonl: line parsing, response deduplication, and the external
// sort of pairs by user (sorted runs spilled next to the output, k-way merged into the writer).
#include "io/jsonl_importer.h"

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <ostream>
#include <queue>
#include <unordered_map>
#include <vector>

#include "core/errors.h"
#include "io/sorted_runs.h"
#include "io/store_writer.h"
#include "io/text_featurizer.h"

namespace vrf::io {
namespace {

using nlohmann::json;

constexpr const char* kExpectedLine =
    "expected one JSON object per line: {\"user\": string or integer, \"prompt\": string or "
    "integer, \"chosen\": R, \"rejected\": R} with R an array of numbers or a string";
constexpr int64_t kProgressLines = 1000000;

// "a string", "an array", ... for messages.
std::string a_type(const json& value) {
  const std::string name = value.type_name();
  if (value.is_null()) return name;
  return (value.is_array() || value.is_object() ? "an " : "a ") + name;
}

class JsonlImporter {
 public:
  explicit JsonlImporter(const JsonlImportOptions& options)
      : options_(options), featurizer_(options.text_dim), runs_(options.out_path + ".sort-") {
    if (options.max_records_in_memory < 0 || options.sort_memory_mb <= 0) {
      throw ConfigError("import: sort memory must be positive; got sort_memory_mb " +
                        std::to_string(options.sort_memory_mb) + ", max_records_in_memory " +
                        std::to_string(options.max_records_in_memory));
    }
    max_records_ = options.max_records_in_memory > 0
                       ? options.max_records_in_memory
                       : options.sort_memory_mb * (int64_t{1} << 20) / int64_t{sizeof(PairRecord)};
  }

  void add_line(const std::string& text, int64_t line) {
    json object;
    try {
      object = json::parse(text);
    } catch (const json::exception& e) {
      const std::string what = e.what();
      fail(line, "not valid JSON (" + what.substr(what.find("] ") + 2) + ")", kExpectedLine);
    }
    if (!object.is_object()) fail(line, "the line is " + a_type(object), kExpectedLine);
    const int64_t user = user_index(field(object, "user", line), line);
    const int64_t prompt = prompt_id(field(object, "prompt", line), line);
    const int64_t chosen = response_row(field(object, "chosen", line), "chosen", prompt, line);
    const int64_t rejected =
        response_row(field(object, "rejected", line), "rejected", prompt, line);
    records_.push_back({user, chosen, rejected, line});
    ++pairs_;
    if (static_cast<int64_t>(records_.size()) >= max_records_) spill();
  }

  ImportSummary finish(int64_t lines) {
    if (writer_ == nullptr) {
      fail(1, "no preference pairs (the file is empty or all lines are blank)", kExpectedLine);
    }
    const std::vector<int64_t> rank = user_ranks();
    const bool stale = std::any_of(runs_.runs().begin(), runs_.runs().end(),
                                   [&](const auto& run) { return run.string_order != strings_; });
    if (stale) {
      // A string user arrived after runs sorted by integer id: re-sort them one at a time.
      if (!records_.empty()) spill();
      for (auto& run : runs_.runs()) {
        if (run.string_order == strings_) continue;
        std::vector<PairRecord> records(static_cast<size_t>(run.count));
        {
          RunCursor cursor(run);  // closed before the file is rewritten
          for (auto& record : records) {
            record = cursor.top();
            cursor.advance();
          }
        }
        sort_records(records, rank);
        runs_.write(run, records);
        run.string_order = strings_;
      }
    }
    sort_records(records_, rank);
    std::vector<std::unique_ptr<RunCursor>> cursors;
    for (const auto& run : runs_.runs()) cursors.push_back(std::make_unique<RunCursor>(run));
    cursors.push_back(std::make_unique<RunCursor>(records_));
    merge(cursors, rank);
    if (strings_) {
      std::vector<std::string> sorted(names_.size());
      for (size_t u = 0; u < names_.size(); ++u) sorted[rank[u]] = std::move(names_[u]);
      writer_->set_user_names(std::move(sorted));
    }
    ImportSummary summary{
        writer_->num_users(), writer_->num_pairs(), writer_->num_responses(), dim_, text_, lines};
    writer_->finish();
    return summary;
  }

  int64_t pairs() const { return pairs_; }
  int64_t responses() const { return writer_ == nullptr ? 0 : writer_->num_responses(); }

 private:
  [[noreturn]] void fail(int64_t line, const std::string& what, const std::string& expected) const {
    throw DataError(options_.jsonl_path + ":" + std::to_string(line) + ": " + what + "; " +
                    expected);
  }

  const json& field(const json& object, const char* key, int64_t line) const {
    const auto it = object.find(key);
    if (it == object.end()) fail(line, std::string("missing key \"") + key + "\"", kExpectedLine);
    return *it;
  }

  // An integer id or a string name as a name; integers must fit int64.
  std::string id_name(const json& value, const char* key, int64_t line, int64_t* integer) const {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX)) {
      fail(line, std::string("\"") + key + "\" " + value.dump() + " does not fit in int64",
           "expected an integer in [-2^63, 2^63) or a string");
    }
    if (!value.is_number_integer()) {
      fail(line, std::string("\"") + key + "\" is " + a_type(value),
           "expected a string or an integer");
    }
    *integer = value.get<int64_t>();
    return std::to_string(*integer);
  }

  int64_t user_index(const json& value, int64_t line) {
    int64_t integer = 0;
    const std::string name = id_name(value, "user", line, &integer);
    strings_ = strings_ || value.is_string();
    const auto [it, added] = user_index_.emplace(name, static_cast<int64_t>(names_.size()));
    if (added) {
      names_.push_back(name);
      integer_ids_.push_back(integer);
    }
    return it->second;
  }

  int64_t prompt_id(const json& value, int64_t line) {
    int64_t integer = 0;
    const std::string name = id_name(value, "prompt", line, &integer);
    if (prompt_line_ == 0) {
      prompt_line_ = line;
      string_prompts_ = value.is_string();
    } else if (value.is_string() != string_prompts_) {
      fail(line,
           std::string("\"prompt\" is ") + (string_prompts_ ? "an integer" : "a string") +
               " but line " + std::to_string(prompt_line_) + " has " +
               (string_prompts_ ? "a string" : "an integer"),
           "expected prompt ids of one kind, all strings or all integers");
    }
    if (!string_prompts_) return integer;
    return prompt_index_.emplace(name, static_cast<int64_t>(prompt_index_.size())).first->second;
  }

  int64_t response_row(const json& value, const char* key, int64_t prompt, int64_t line) {
    const std::string name = std::string("\"") + key + "\"";
    if (!value.is_array() && !value.is_string()) {
      fail(line, name + " is " + a_type(value),
           "expected an array of numbers (an embedding) or a string (text)");
    }
    if (writer_ != nullptr && value.is_string() != text_) {
      fail(line,
           name + " is " + (text_ ? "an array" : "a string") + " but line " +
               std::to_string(first_line_) + " has " + (text_ ? "strings" : "arrays"),
           "expected all responses of a file to be embedding arrays or all to be text strings");
    }
    if (writer_ == nullptr && value.is_array() && value.empty()) {
      fail(line, name + " is an empty array", "expected an embedding with at least one value");
    }
    if (writer_ == nullptr) open_writer(value.is_string(), value.size(), line);
    std::string content(reinterpret_cast<const char*>(&prompt), sizeof(prompt));
    if (text_) {
      content += value.get_ref<const std::string&>();
    } else {
      if (static_cast<int64_t>(value.size()) != dim_) {
        fail(line, name + " has " + std::to_string(value.size()) + " values",
             "expected " + std::to_string(dim_) + ", the embedding width set by line " +
                 std::to_string(first_line_));
      }
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string element = name + "[" + std::to_string(i) + "]";
        if (!value[i].is_number()) {
          fail(line, element + " is " + a_type(value[i]), "expected a number");
        }
        const double x = value[i].get<double>();
        if (!std::isfinite(x) || std::fabs(x) > FLT_MAX) {
          fail(line, element + " = " + value[i].dump() + " is not a finite float32",
               "expected finite values within +-3.4e38");
        }
        embedding_[i] = static_cast<float>(x);
      }
      content.append(reinterpret_cast<const char*>(embedding_.data()),
                     embedding_.size() * sizeof(float));
    }
    const auto [it, added] = response_index_.emplace(std::move(content), writer_->num_responses());
    if (added) {
      if (text_) featurizer_.featurize(value.get_ref<const std::string&>(), embedding_.data());
      writer_->add_responses(embedding_.data(), &prompt, 1);
    }
    return it->second;
  }

  void open_writer(bool text, size_t width, int64_t line) {
    text_ = text;
    dim_ = text ? options_.text_dim : static_cast<int64_t>(width);
    first_line_ = line;
    embedding_.resize(static_cast<size_t>(dim_));
    StoreWriterOptions writer_options;
    writer_options.embedding_dim = dim_;
    writer_options.dtype = options_.dtype;
    writer_options.compress = options_.compress;
    writer_options.overwrite = options_.overwrite;
    writer_ = std::make_unique<StoreWriter>(options_.out_path, writer_options);
  }

  // Each user's position in the store's order (by name when any user id is a string, else by
  // integer id). Ranks among a subset of users keep their relative order as users are added.
  std::vector<int64_t> user_ranks() const {
    std::vector<int64_t> order(names_.size()), rank(names_.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return strings_ ? names_[a] < names_[b] : integer_ids_[a] < integer_ids_[b];
    });
    for (size_t i = 0; i < order.size(); ++i) rank[order[i]] = static_cast<int64_t>(i);
    return rank;
  }

  void spill() {
    sort_records(records_, user_ranks());
    runs_.add(records_, strings_);
    records_.clear();
  }

  void merge(std::vector<std::unique_ptr<RunCursor>>& cursors, const std::vector<int64_t>& rank) {
    const auto later = [&](size_t a, size_t b) {
      const PairRecord &x = cursors[a]->top(), &y = cursors[b]->top();
      return rank[x.user] != rank[y.user] ? rank[x.user] > rank[y.user] : x.line > y.line;
    };
    std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
    for (size_t i = 0; i < cursors.size(); ++i) {
      if (!cursors[i]->done()) heap.push(i);
    }
    int64_t user = -1;
    std::vector<int64_t> chosen, rejected;
    const auto add_user = [&] {
      if (user < 0) return;
      writer_->add_user(strings_ ? rank[user] : integer_ids_[user], chosen.data(), rejected.data(),
                        static_cast<int64_t>(chosen.size()));
      chosen.clear();
      rejected.clear();
    };
    while (!heap.empty()) {
      const size_t i = heap.top();
      heap.pop();
      const PairRecord& record = cursors[i]->top();
      if (record.user != user) {
        add_user();
        user = record.user;
      }
      chosen.push_back(record.chosen);
      rejected.push_back(record.rejected);
      cursors[i]->advance();
      if (!cursors[i]->done()) heap.push(i);
    }
    add_user();
  }

  const JsonlImportOptions& options_;
  TextFeaturizer featurizer_;
  SpillRuns runs_;
  int64_t max_records_ = 0, pairs_ = 0;
  std::unique_ptr<StoreWriter> writer_;
  bool text_ = false;
  int64_t dim_ = 0, first_line_ = 0;
  std::vector<float> embedding_;                             // [dim_], the current response
  std::unordered_map<std::string, int64_t> response_index_;  // prompt bytes + content -> row
  std::unordered_map<std::string, int64_t> user_index_, prompt_index_;
  std::vector<std::string> names_;  // by user index
  std::vector<int64_t> integer_ids_;
  bool strings_ = false, string_prompts_ = false;
  int64_t prompt_line_ = 0;
  std::vector<PairRecord> records_;
};

}  // namespace

ImportSummary import_jsonl(const JsonlImportOptions& options, std::ostream* progress) {
  if (!options.overwrite && std::filesystem::exists(options.out_path)) {
    throw ConfigError(options.out_path + " already exists; pass --force to overwrite it");
  }
  JsonlImporter importer(options);
  std::ifstream in(options.jsonl_path);
  if (!in) {
    throw DataError(options.jsonl_path + ": cannot open the file (" + std::strerror(errno) +
                    "); expected a readable JSONL file");
  }
  std::string text;
  int64_t lines = 0;
  while (std::getline(in, text)) {
    ++lines;
    if (text.find_first_not_of(" \t\r") != std::string::npos) importer.add_line(text, lines);
    if (progress != nullptr && lines % kProgressLines == 0) {
      *progress << options.jsonl_path << ": " << lines << " lines, " << importer.pairs()
                << " pairs, " << importer.responses() << " responses" << std::endl;
    }
  }
  if (in.bad()) {
    throw DataError(options.jsonl_path + ":" + std::to_string(lines + 1) +
                    ": read error; expected a readable JSONL file");
  }
  return importer.finish(lines);
}

}  // namespace vrf::io
