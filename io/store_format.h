// io/store_format.h — names, versions and element types of the preference store (io/FORMAT.md).
#pragma once

#include <cstdint>
#include <string>

namespace vrf::io {

constexpr int64_t kStoreFormatVersion = 1;
constexpr const char* kVersionAttribute = "vrf_format_version";
constexpr const char* kDimAttribute = "embedding_dim";

constexpr const char* kEmbeddingPath = "/responses/embedding";  // float16/float32 [R, D]
constexpr const char* kPromptPath = "/responses/prompt";        // int64 [R]
constexpr const char* kChosenPath = "/pairs/chosen";            // int64 [N]
constexpr const char* kRejectedPath = "/pairs/rejected";        // int64 [N]
constexpr const char* kUserIdPath = "/users/id";                // int64 [U]
constexpr const char* kOffsetsPath = "/users/offsets";          // int64 [U + 1]
constexpr const char* kNumContextPath = "/users/num_context";   // optional int64 [U]
constexpr const char* kUserNamePath = "/users/name";            // optional string [U] (import)
constexpr const char* kTruthGroup = "/truth";                   // optional synthetic ground truth

// Target bytes of one chunk of any dataset (rows along the first axis).
constexpr int64_t kChunkBytes = int64_t{1} << 20;

enum class EmbeddingDtype { kFloat16, kFloat32 };

// "float16" / "float32" <-> enum; the parser throws vrf::ConfigError naming `flag`.
EmbeddingDtype parse_embedding_dtype(const std::string& name, const std::string& flag);
std::string to_string(EmbeddingDtype dtype);
int64_t element_bytes(EmbeddingDtype dtype);

}  // namespace vrf::io
