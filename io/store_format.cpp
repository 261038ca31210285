// io/store_format.cpp — dtype names of the preference store.
#include "io/store_format.h"

#include "core/errors.h"

namespace vrf::io {

EmbeddingDtype parse_embedding_dtype(const std::string& name, const std::string& flag) {
  if (name == "float16") return EmbeddingDtype::kFloat16;
  if (name == "float32") return EmbeddingDtype::kFloat32;
  throw ConfigError(flag + ": unknown dtype '" + name + "'; expected float16 or float32");
}

std::string to_string(EmbeddingDtype dtype) {
  return dtype == EmbeddingDtype::kFloat16 ? "float16" : "float32";
}

int64_t element_bytes(EmbeddingDtype dtype) { return dtype == EmbeddingDtype::kFloat16 ? 2 : 4; }

}  // namespace vrf::io
