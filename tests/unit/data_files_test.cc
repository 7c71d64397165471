// .npy and 610/510 .bin parsing: round trips and the messages for broken files.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "data/bin_file.h"
#include "io/npy.h"
#include "ir/tensor.h"

namespace dopt {
namespace {

std::string Int32s(std::initializer_list<int32_t> v) {
  std::string s(v.size() * 4, '\0');
  size_t i = 0;
  for (int32_t x : v) std::memcpy(&s[4 * i++], &x, 4);  // little-endian hosts only, as dopt
  return s;
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(BinFile, RoundTripsBothHeaders) {
  Tensor t = Tensor::FromFloats({1, 2, 1, 3}, {1, 2, 3, 4, 5, -6});
  for (int32_t magic : {kBinMagicAnyRank, kBinMagicNCHW}) {
    auto back = ParseBinFile(SerializeBinFile(t, magic), "x.bin");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->shape(), t.shape());
    EXPECT_EQ(back->ToDoubleVector(), t.ToDoubleVector());
  }
}

TEST(BinFile, HeaderLayout) {
  std::string bytes = Int32s({610, 2, 2, 1});
  bytes += std::string(8, '\0');  // two float32 zeros
  auto h = ParseBinHeader(bytes, "h.bin");
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->magic, 610);
  EXPECT_EQ(h->shape, (Shape{2, 1}));
  EXPECT_EQ(h->header_bytes, 16u);
}

TEST(BinFile, BadMagicNamesFileAndCause) {
  std::string bytes = Int32s({123, 1, 4}) + std::string(16, '\0');
  auto t = ParseBinFile(bytes, "bad.bin");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(Contains(t.status().message(), "bad.bin")) << t.status().message();
  EXPECT_TRUE(Contains(t.status().message(), "bad magic number 123")) << t.status().message();
}

TEST(BinFile, SizeMismatchIsAnError) {
  std::string bytes = Int32s({510, 1, 1, 2, 2}) + std::string(12, '\0');  // needs 16 data bytes
  auto t = ParseBinFile(bytes, "short.bin");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(Contains(t.status().message(), "short.bin")) << t.status().message();
  EXPECT_FALSE(ParseBinFile("", "empty.bin").ok());
  EXPECT_FALSE(ParseBinFile(Int32s({610, 0}), "rank0.bin").ok());
  EXPECT_FALSE(ParseBinFile(Int32s({610, 1, -3}), "negdim.bin").ok());
}

TEST(Npy, RoundTrip) {
  Tensor t = Tensor::FromFloats({2, 3}, {0.5f, 1, 2, 3, 4, -5});
  auto back = ParseNpy(SerializeNpy(t), "x.npy");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->dtype(), DType::kFloat32);
  EXPECT_EQ(back->shape(), t.shape());
  EXPECT_EQ(back->ToDoubleVector(), t.ToDoubleVector());
}

TEST(Npy, BrokenFilesNameFileAndCause) {
  auto t = ParseNpy("1 2 3 4\n", "text.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(Contains(t.status().message(), "text.npy: not a valid .npy file")) << t.status().message();
  std::string good = SerializeNpy(Tensor::FromFloats({4}, {1, 2, 3, 4}));
  auto cut = ParseNpy(good.substr(0, good.size() - 4), "cut.npy");
  ASSERT_FALSE(cut.ok());
  EXPECT_TRUE(Contains(cut.status().message(), "cut.npy")) << cut.status().message();
}

// A version 1.0 .npy with the given header dict text and data bytes.
std::string NpyWithHeader(const std::string& dict, const std::string& data) {
  std::string h = dict + "\n";
  std::string out = "\x93NUMPY";
  out += (char)1;
  out += (char)0;
  out += (char)(h.size() & 0xff);
  out += (char)(h.size() >> 8);
  return out + h + data;
}

TEST(Npy, ShapeTuplesAsNumPyWritesThem) {
  struct Case { const char* shape; Shape want; size_t bytes; } cases[] = {
      {"()", {}, 4}, {"(3,)", {3}, 12}, {"(2, 3)", {2, 3}, 24}, {"(2L, 1L)", {2, 1}, 8}, {"(0, 5)", {0, 5}, 0}};
  for (const auto& c : cases) {
    auto t = ParseNpy(NpyWithHeader(std::string("{'descr': '<f4', 'fortran_order': False, 'shape': ") + c.shape + ", }",
                                    std::string(c.bytes, '\0')),
                      "a.npy");
    ASSERT_TRUE(t.ok()) << c.shape << ": " << t.status().message();
    EXPECT_EQ(t->shape(), c.want) << c.shape;
  }
}

// Found by the npy fuzzer (an empty descr threw std::out_of_range from substr) and written
// after it (a dim too long for stoll threw too): every malformed header is an error naming the
// file and the cause, never an exception.
TEST(Npy, MalformedHeadersAreErrorsNotExceptions) {
  struct Case { const char* dict; const char* cause; } cases[] = {
      {"{'descr':, 'fortran_order': False, 'shape': (1,), }", "descr is not a quoted dtype string"},
      {"{'descr': '', 'fortran_order': False, 'shape': (1,), }", "unsupported .npy dtype ''"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", "is not an integer in [0, 2^40]"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2199023255552, 0), }", "larger than 2^40"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "dim '-1' is not an integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,,), }", "has an empty dim"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': 7, }", "is not a tuple"},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", "fortran_order is 'Maybe'"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", "Fortran-ordered"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': ", "is not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, }", "header lacks"},
  };
  for (const auto& c : cases) {
    auto t = ParseNpy(NpyWithHeader(c.dict, std::string(4, '\0')), "bad.npy");
    ASSERT_FALSE(t.ok()) << c.dict;
    EXPECT_TRUE(Contains(t.status().message(), "bad.npy")) << t.status().message();
    EXPECT_TRUE(Contains(t.status().message(), c.cause)) << c.dict << " -> " << t.status().message();
  }
}

}  // namespace
}  // namespace dopt
