#include "base/status.h"

#include <gtest/gtest.h>

#include "base/strings.h"

namespace lake {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument(StrCat(x, " is odd")).WithHint("pass an even number");
  return x / 2;
}

Result<int> Quarter(int x) {
  LAKE_ASSIGN_OR_RETURN(int h, Half(x));
  LAKE_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(Status, OkHasNoMessageAndCodeOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, ErrorCarriesCodeMessageAndHint) {
  Status s = Status::Corruption("t: commit 3 is missing").WithHint("restore it");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "t: commit 3 is missing");
  EXPECT_EQ(s.hint(), "restore it");
  EXPECT_EQ(s.ToString(), "CORRUPTION: t: commit 3 is missing (hint: restore it)");
  Status c = s.WithContext("loading t");
  EXPECT_EQ(c.message(), "loading t: t: commit 3 is missing");
  EXPECT_EQ(c.hint(), "restore it");
}

TEST(Result, AssignOrReturnPropagatesTheFirstError) {
  ASSERT_TRUE(Quarter(8).ok());
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "3 is odd");
  EXPECT_EQ(r.status().hint(), "pass an even number");
}

TEST(Strings, ParseInt64RejectsTrailingGarbageAndAcceptsSign) {
  EXPECT_EQ(ParseInt64("42"), 42);
  EXPECT_EQ(ParseInt64("-7"), -7);
  EXPECT_EQ(ParseInt64("00000000000000000010"), 10);
  EXPECT_FALSE(ParseInt64("4x").has_value());
  EXPECT_FALSE(ParseInt64("").has_value());
  EXPECT_EQ(ZeroPad(3, 20), "00000000000000000003");
  EXPECT_EQ(JsonQuote("a\"b\n"), "\"a\\\"b\\n\"");
  EXPECT_EQ(SqlQuote("/t/it's"), "'/t/it''s'");
}

}  // namespace
}  // namespace lake
