// libFuzzer target: arbitrary bytes through the config.json parser and the
// validator, and through the `update --resources` path. Any crash, sanitizer
// report or escaping exception is a bug; errors are the expected outcome.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/parse.hpp"
#include "spec/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto config = orun::spec::parse_config(text)) {
    (void)orun::spec::validate(*config);
  } else if (config.error().message.empty()) {
    __builtin_trap();  // every error must say something
  }
  if (auto res = orun::spec::parse_resources(text)) (void)orun::spec::validate_resources(*res, "linux.resources");
  return 0;
}
