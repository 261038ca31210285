// io/jsonl_importer.h — `vrf data import`: converts preference pairs in JSONL (embedding arrays,
// or raw text through TextFeaturizer) into a preference store.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "io/store_format.h"

namespace vrf::io {

struct JsonlImportOptions {
  std::string jsonl_path;  // input: one JSON object per line
  std::string out_path;    // the store to write
  int64_t text_dim = 256;  // D of featurized text (elements); unused for embedding arrays
  EmbeddingDtype dtype = EmbeddingDtype::kFloat32;
  bool compress = false;              // shuffle + deflate on every dataset
  bool overwrite = false;             // replace an existing out_path (--force)
  int64_t sort_memory_mb = 256;       // MiB of pair records held in memory before a run is spilled
  int64_t max_records_in_memory = 0;  // pair records per run; 0: sort_memory_mb / 32 bytes
};

struct ImportSummary {
  int64_t users = 0, pairs = 0, responses = 0, embedding_dim = 0;
  bool text = false;  // responses were strings, featurized by TextFeaturizer
  int64_t lines = 0;  // input lines read, blank lines included
};

// Reads options.jsonl_path and writes the store options.out_path. Each non-blank line is one pair:
//   {"user": string or integer, "prompt": string or integer, "chosen": R, "rejected": R}
// (other keys are ignored). R is either an embedding, an array of numbers whose width D is the
// same throughout the file, or a string featurized into D = text_dim values by TextFeaturizer;
// one file holds only arrays or only strings. Integer prompt ids are kept; string prompt ids are
// numbered 0, 1, ... in order of first appearance (a file uses one kind). A response appearing
// again with the same prompt and identical text (or identical float32 values) is stored once;
// responses are numbered in order of first appearance. When every user id is an integer, it is
// the stored id; when any is a string, all are taken as strings (integers in decimal), numbered
// 0..U-1 in byte-wise sorted order and kept in /users/name. Pairs are stored sorted by user, in
// input order within a user.
//
// Memory: pair records (32 bytes each) up to the sort budget; beyond it sorted runs are spilled to
// "<out_path>.sort-<k>.tmp" and merged at the end (the files are removed in every case). The
// distinct responses' content (text bytes or D floats), user names and prompt names are held in
// memory for deduplication.
//
// Throws vrf::ConfigError when out_path exists and !overwrite (checked before the input is opened)
// or an option is out of range, and vrf::DataError "<jsonl_path>:<line>: <problem>; expected ..."
// for a malformed line, a missing key, a value of the wrong type, an embedding of another width,
// a mix of text and arrays, a number that is not a finite float32, or a file without pairs.
// Writes one progress line per 1,000,000 input lines to *progress when given.
ImportSummary import_jsonl(const JsonlImportOptions& options, std::ostream* progress = nullptr);

}  // namespace vrf::io
