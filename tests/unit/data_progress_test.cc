// Progress: plain periodic lines off a terminal, a redrawn bar on one, quiet on errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "common/progress.h"

namespace dopt {
namespace {

std::string Contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, n);
  return s;
}

size_t Count(const std::string& s, char c) {
  size_t n = 0;
  for (char x : s) n += x == c;
  return n;
}

TEST(DataProgress, PlainLinesEveryTenPercent) {
  std::FILE* f = std::tmpfile();
  {
    Progress p("reading", 1000, f);
    p.set_tty(false);
    for (int i = 1; i <= 1000; ++i) p.Update(i);
    p.Finish();
  }
  std::string s = Contents(f);
  EXPECT_EQ(Count(s, '\r'), 0u);
  EXPECT_LE(Count(s, '\n'), 11u);
  EXPECT_GE(Count(s, '\n'), 10u);
  EXPECT_NE(s.find("reading: 1000/1000 (100%)"), std::string::npos) << s;
  std::fclose(f);
}

TEST(DataProgress, BarOnTerminal) {
  std::FILE* f = std::tmpfile();
  {
    Progress p("reading", 4, f);
    p.set_tty(true);
    for (int i = 1; i <= 4; ++i) p.Update(i);
    p.Finish();
  }
  std::string s = Contents(f);
  EXPECT_GE(Count(s, '\r'), 4u);
  EXPECT_EQ(Count(s, '\n'), 1u);
  EXPECT_NE(s.find("[##############################] 100% 4/4"), std::string::npos) << s;
  std::fclose(f);
}

TEST(DataProgress, UnfinishedBarEndsItsLine) {
  std::FILE* f = std::tmpfile();
  {
    Progress p("reading", 4, f);
    p.set_tty(true);
    p.Update(1);
  }
  std::string s = Contents(f);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.back(), '\n');
  std::FILE* g = std::tmpfile();
  {
    Progress p("reading", 4, g);
    p.set_tty(false);
  }
  EXPECT_TRUE(Contents(g).empty());
  std::fclose(f);
  std::fclose(g);
}

}  // namespace
}  // namespace dopt
