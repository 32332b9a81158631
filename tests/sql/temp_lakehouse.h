// The fixture of the SQL tests: a Lakehouse over a fresh temp folder, removed afterwards.
//   <tmp>/<prefix>_<pid>_<test name>/home   the lake home (created only by statements that need it)
//   <tmp>/<prefix>_<pid>_<test name>/data   for tables the test places itself
// `Base` is ::testing::Test or ::testing::TestWithParam<T>.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "sql/lakehouse.h"

namespace lake::sql::testing {

template <typename Base = ::testing::Test>
class TempLakehouse : public Base {
 protected:
  explicit TempLakehouse(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    // Parameterized tests are named "Test/param": keep the folder one level deep.
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : test) {
      if (c == '/') c = '_';
    }
    root_ = std::filesystem::temp_directory_path() /
            (prefix_ + "_" + std::to_string(getpid()) + "_" + test);
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "data");
    home_ = (root_ / "home").string();
    house_ = Open();
    ASSERT_NE(house_, nullptr);
    auto session = house_->database().Connect();
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = std::move(*session);
  }
  void TearDown() override {
    session_.reset();
    house_.reset();
    std::filesystem::remove_all(root_);
  }

  // Opens a(nother) Lakehouse on the test's home; null (and a test failure) on error.
  std::unique_ptr<Lakehouse> Open() {
    LakehouseOptions options;
    options.home = home_;
    options.database.threads = 2;
    auto house = Lakehouse::Open(options);
    EXPECT_TRUE(house.ok()) << house.status();
    return house.ok() ? std::move(*house) : nullptr;
  }

  Result<engine::ResultTable> Query(const std::string& sql) { return session_->Query(sql); }

  std::filesystem::path root_;
  std::string home_;
  std::unique_ptr<Lakehouse> house_;
  std::unique_ptr<engine::Session> session_;

 private:
  std::string prefix_;
};

}  // namespace lake::sql::testing
