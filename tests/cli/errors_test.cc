#include "cli/errors.h"

#include <gtest/gtest.h>

#include <sstream>

namespace lake::cli {
namespace {

// STYLE.md §11: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 corruption, 130 Ctrl-C.
TEST(ExitCodeFor, FollowsStyleSection11) {
  EXPECT_EQ(ExitCodeFor(StatusCode::kOk), 0);
  EXPECT_EQ(ExitCodeFor(StatusCode::kInvalidArgument), 2);
  EXPECT_EQ(ExitCodeFor(StatusCode::kNotFound), 3);
  EXPECT_EQ(ExitCodeFor(StatusCode::kConflict), 4);
  EXPECT_EQ(ExitCodeFor(StatusCode::kCorruption), 5);
  EXPECT_EQ(ExitCodeFor(StatusCode::kCancelled), 130);
  EXPECT_EQ(ExitCodeFor(StatusCode::kNotSupported), 1);
  EXPECT_EQ(ExitCodeFor(StatusCode::kAlreadyExists), 1);
  EXPECT_EQ(ExitCodeFor(StatusCode::kIOError), 1);
  EXPECT_EQ(ExitCodeFor(StatusCode::kInternal), 1);
}

TEST(PrintErrorLines, ErrorThenHint) {
  std::ostringstream err;
  PrintErrorLines(Status::NotFound("table /x: no such folder").WithHint("check the path"), err);
  EXPECT_EQ(err.str(), "error: table /x: no such folder\nhint: check the path\n");
  std::ostringstream no_hint;
  PrintErrorLines(Status::IOError("disk"), no_hint);
  EXPECT_EQ(no_hint.str(), "error: disk\n");
}

}  // namespace
}  // namespace lake::cli
