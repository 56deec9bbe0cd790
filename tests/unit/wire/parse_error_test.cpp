// Tests of wire/parse_error.hpp: every reason has its own distinct name.
#include "wire/parse_error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string_view>

namespace sluice::wire {
namespace {

TEST(ParseError, EveryReasonHasADistinctName) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kParseErrorCount; ++i) {
    const auto name = to_string(static_cast<ParseError>(i));
    EXPECT_NE(name, "unknown") << i;
    EXPECT_FALSE(name.empty());
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kParseErrorCount);
  EXPECT_EQ(to_string(ParseError::Ipv4BadChecksum), "ipv4_bad_checksum");
}

}  // namespace
}  // namespace sluice::wire
