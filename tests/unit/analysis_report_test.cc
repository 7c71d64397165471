// The views of an AnalysisReport (pipeline/analysis_report.cc): the JSON parses and is sorted
// worst first with every string escaped, the text table is sorted worst first, and the HTML page
// is self-contained with escaped names and the elements the browser test looks for.
// With DOPT_REPORT_SAMPLE_OUT=<file>, AnalysisReport.WritesSample writes the sample page there
// (tests/e2e/test_report_browser.py loads it in headless Chromium).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/analysis.h"

namespace dopt {
namespace {

// --- a tiny JSON parser: enough to check the structure and read back strings and numbers ---
struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Json> items;
  // Object members in order: keys[i] names values[i] (a pair with the incomplete Json would
  // not compile with clang's libstdc++ checks).
  std::vector<std::string> keys;
  std::vector<Json> values;

  const Json* Get(const std::string& key) const {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &values[i];
    }
    return nullptr;
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}
  // Whole document; false on any syntax error or trailing garbage.
  bool Parse(Json& out) {
    if (!Value(out)) return false;
    Ws();
    return i_ == s_.size();
  }

 private:
  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool Lit(const char* w) {
    const std::string t(w);
    if (s_.compare(i_, t.size(), t) != 0) return false;
    i_ += t.size();
    return true;
  }
  bool String(std::string& out) {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    ++i_;
    while (i_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;  // raw control characters are invalid JSON
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (i_ + 4 > s_.size()) return false;
          const unsigned cp = static_cast<unsigned>(std::stoul(s_.substr(i_, 4), nullptr, 16));
          i_ += 4;
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default: return false;
      }
    }
    return false;
  }
  bool Value(Json& v) {
    Ws();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') {
      v.kind = Json::kObject;
      ++i_;
      Ws();
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      while (true) {
        Ws();
        std::string key;
        if (!String(key)) return false;
        Ws();
        if (i_ >= s_.size() || s_[i_++] != ':') return false;
        Json member;
        if (!Value(member)) return false;
        v.keys.push_back(key);
        v.values.push_back(std::move(member));
        Ws();
        if (i_ >= s_.size()) return false;
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (s_[i_] == '}') return ++i_, true;
        return false;
      }
    }
    if (c == '[') {
      v.kind = Json::kArray;
      ++i_;
      Ws();
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
      while (true) {
        Json item;
        if (!Value(item)) return false;
        v.items.push_back(std::move(item));
        Ws();
        if (i_ >= s_.size()) return false;
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (s_[i_] == ']') return ++i_, true;
        return false;
      }
    }
    if (c == '"') {
      v.kind = Json::kString;
      return String(v.str);
    }
    if (Lit("null")) return v.kind = Json::kNull, true;
    if (Lit("true")) return v.kind = Json::kBool, v.b = true, true;
    if (Lit("false")) return v.kind = Json::kBool, v.b = false, true;
    // Number: JSON grammar only (no NaN, inf, leading '+', hex).
    const size_t start = i_;
    if (s_[i_] == '-') ++i_;
    const auto digits = [&] {
      const size_t d = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      return i_ > d;
    };
    if (!digits()) return false;
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return false;
    }
    v.kind = Json::kNumber;
    v.num = std::stod(s_.substr(start, i_ - start));
    return true;
  }

  const std::string& s_;
  size_t i_ = 0;
};

// --- the sample report --------------------------------------------------------------------

const std::string kNastyName = "conv<1>&\"a'\\b";  // every HTML- and JSON-special character

LayerAnalysis Layer(const std::string& name, const std::string& op, double sqnr, double acc, int64_t pair_sum) {
  LayerAnalysis l;
  l.name = name;
  l.op_type = op;
  l.input_tensor = name + ":in";
  l.output_tensor = name + ":out";
  l.sqnr_db = sqnr;
  l.sqnr_db_accumulated = acc;
  l.cosine = 1 - std::pow(10.0, -sqnr / 10);
  l.cosine_accumulated = 1 - std::pow(10.0, -acc / 10);
  l.max_pair_sum = pair_sum;
  l.saturation_risk = pair_sum > 32767;
  return l;
}

// Layers in graph order; the worst-first order is: 5 (NaN), 3 (12 dB), 1 and 4 (20 dB, graph
// order), 0 (35 dB), 2 (200 dB, capped), 6 (41 dB) ... see the expectations below.
AnalysisReport Sample() {
  AnalysisReport r;
  r.model = "model <v2> & \"friends\".onnx";
  r.strategy = "Quant_INT8-8";
  r.calibration_method = "kl";
  r.samples = 100;
  r.analysis_samples = 16;
  r.output_cosine = 0.99731;
  r.output_cosines = {{"logits", 0.9971}, {"aux<out>", std::numeric_limits<double>::infinity()}};
  r.options = {"equalization: true", "x86_saturation_safe: NONE"};
  r.layers.push_back(Layer("stem", "Conv", 35.5, 35.5, 1000));
  r.layers.push_back(Layer(kNastyName, "Conv", 20, 19.5, 40000));
  r.layers.push_back(Layer("ctrl\x01\ttab", "Relu", kMaxSqnrDb, 19.5, 0));
  r.layers.push_back(Layer("block1/conv", "Conv", 12.25, 11, 20000));
  r.layers.push_back(Layer("block1/fc", "Gemm", 20, 10.5, 30000));
  r.layers.push_back(Layer("broken", "MatMul", std::nan(""), std::nan(""), 0));
  r.layers.push_back(Layer("head", "Gemm", 41, 10.25, 33000));
  r.layers[2].activation_bits = 16;
  for (const LayerAnalysis& l : r.layers) {
    ActivationHistogram h;
    h.tensor = l.input_tensor;
    h.min = -3;
    h.max = 6;
    h.clip_min = -2.5f;
    h.clip_max = 5;
    h.counts.resize(2048);
    for (size_t i = 0; i < h.counts.size(); ++i) h.counts[i] = static_cast<int64_t>(1e6 * std::exp(-0.005 * i));
    r.activations.push_back(h);
    WeightRanges w;
    w.node = l.name;
    w.tensor = l.name + ".weight";
    for (int c = 0; c < 32; ++c) {
      w.channel_min.push_back(-0.1f * (c + 1));
      w.channel_max.push_back(0.05f * (c + 1));
    }
    r.weights.push_back(w);
  }
  r.weights.back().channel_min = {-1};  // per tensor
  r.weights.back().channel_max = {1};
  r.raised.push_back({"block1/conv", "Conv", "int16", "sqnr 12.25 dB < 20 dB <target>"});
  r.raised.push_back({"head", "Gemm", "float", "accuracy_target: \"0.999\" & more"});
  r.quantized_ops = 6;
  r.float_ops = 1;
  return r;
}

const std::vector<std::string> kWorstFirst = {"broken", "block1/conv", kNastyName, "block1/fc",
                                              "stem",   "head",        "ctrl\x01\ttab"};

// --- JSON ---------------------------------------------------------------------------------

TEST(AnalysisReport, JsonParsesSortedWorstFirstAndEscaped) {
  const std::string text = AnalysisJson(Sample());
  Json doc;
  ASSERT_TRUE(JsonParser(text).Parse(doc)) << text;
  ASSERT_EQ(doc.kind, Json::kObject);
  for (const char* key : {"model", "strategy", "calibration_method", "samples", "analysis_samples", "output_cosine",
                          "output_cosines", "options", "quantized_ops", "float_ops", "raised", "layers"}) {
    EXPECT_NE(doc.Get(key), nullptr) << key;
  }
  EXPECT_EQ(doc.Get("model")->str, "model <v2> & \"friends\".onnx");
  EXPECT_EQ(doc.Get("samples")->num, 100);
  EXPECT_EQ(doc.Get("analysis_samples")->num, 16);
  EXPECT_DOUBLE_EQ(doc.Get("output_cosine")->num, 0.99731);
  const Json* oc = doc.Get("output_cosines");
  ASSERT_EQ(oc->kind, Json::kObject);
  ASSERT_NE(oc->Get("aux<out>"), nullptr);
  EXPECT_EQ(oc->Get("aux<out>")->kind, Json::kNull);  // infinity is not JSON
  EXPECT_DOUBLE_EQ(oc->Get("logits")->num, 0.9971);
  ASSERT_EQ(doc.Get("options")->items.size(), 2u);
  EXPECT_EQ(doc.Get("options")->items[1].str, "x86_saturation_safe: NONE");
  EXPECT_EQ(doc.Get("quantized_ops")->num, 6);
  EXPECT_EQ(doc.Get("float_ops")->num, 1);

  const Json* raised = doc.Get("raised");
  ASSERT_EQ(raised->items.size(), 2u);
  EXPECT_EQ(raised->items[1].Get("name")->str, "head");
  EXPECT_EQ(raised->items[1].Get("precision")->str, "float");
  EXPECT_EQ(raised->items[1].Get("reason")->str, "accuracy_target: \"0.999\" & more");
  EXPECT_EQ(raised->items[0].Get("op_type")->str, "Conv");

  const Json* layers = doc.Get("layers");
  ASSERT_EQ(layers->kind, Json::kArray);
  ASSERT_EQ(layers->items.size(), kWorstFirst.size());
  for (size_t i = 0; i < kWorstFirst.size(); ++i) {
    const Json& l = layers->items[i];
    EXPECT_EQ(l.Get("name")->str, kWorstFirst[i]) << i;  // escapes read back exactly
    for (const char* key : {"name", "op_type", "input_tensor", "output_tensor", "activation_bits", "sqnr_db",
                            "sqnr_db_accumulated", "cosine", "cosine_accumulated", "max_pair_sum",
                            "saturation_risk"}) {
      EXPECT_NE(l.Get(key), nullptr) << key;
    }
  }
  EXPECT_EQ(layers->items[0].Get("sqnr_db")->kind, Json::kNull);  // NaN
  EXPECT_DOUBLE_EQ(layers->items[1].Get("sqnr_db")->num, 12.25);
  EXPECT_EQ(layers->items[2].Get("input_tensor")->str, kNastyName + ":in");
  EXPECT_EQ(layers->items[2].Get("saturation_risk")->kind, Json::kBool);
  EXPECT_TRUE(layers->items[2].Get("saturation_risk")->b);
  EXPECT_FALSE(layers->items[4].Get("saturation_risk")->b);
  EXPECT_EQ(layers->items[4].Get("max_pair_sum")->num, 1000);
  EXPECT_EQ(layers->items[6].Get("activation_bits")->num, 16);
  // Escapes as written: control characters as \u00XX.
  EXPECT_NE(text.find("\"ctrl\\u0001\\u0009tab\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"conv<1>&\\\"a'\\\\b\""), std::string::npos) << text;
  // No histograms in the JSON.
  EXPECT_EQ(text.find("counts"), std::string::npos);
}

TEST(AnalysisReport, JsonOfEmptyReportParses) {
  AnalysisReport r;
  r.model = "bad\xff utf8\xe2\x82\xe2\x82\xac";  // invalid bytes, a cut sequence, then a valid euro sign
  const std::string text = AnalysisJson(r);
  Json doc;
  ASSERT_TRUE(JsonParser(text).Parse(doc)) << text;
  EXPECT_EQ(doc.Get("layers")->items.size(), 0u);
  EXPECT_EQ(doc.Get("raised")->items.size(), 0u);
  EXPECT_EQ(doc.Get("output_cosines")->keys.size(), 0u);
  EXPECT_EQ(doc.Get("model")->str, "bad\xef\xbf\xbd utf8\xef\xbf\xbd\xef\xbf\xbd\xe2\x82\xac");
}

// --- text ---------------------------------------------------------------------------------

TEST(AnalysisReport, TextSortedWorstFirst) {
  const std::string text = AnalysisText(Sample());
  EXPECT_NE(text.find("model:          model <v2> & \"friends\".onnx"), std::string::npos) << text;
  EXPECT_NE(text.find("Quant_INT8-8"), std::string::npos);
  EXPECT_NE(text.find("0.997310"), std::string::npos);  // output cosine
  // The table rows in worst-first order: find each name after the previous one.
  size_t pos = text.find("rank");
  ASSERT_NE(pos, std::string::npos) << text;
  for (size_t i = 0; i < kWorstFirst.size(); ++i) {
    std::string name = kWorstFirst[i];
    for (char& c : name) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    const size_t next = text.find(name, pos);
    ASSERT_NE(next, std::string::npos) << "row " << i << " " << name << "\n" << text;
    pos = next;
  }
  EXPECT_EQ(text.find('\x01'), std::string::npos);  // control characters cleaned
  // Rank 2 is block1/conv at 12.25 dB.
  EXPECT_NE(text.find("   2    12.25"), std::string::npos) << text;
  // Raised ops with their reasons, after the table.
  const size_t raised = text.find("raised ops");
  ASSERT_NE(raised, std::string::npos);
  EXPECT_GT(raised, pos);
  EXPECT_NE(text.find("head (Gemm): float - accuracy_target: \"0.999\" & more"), std::string::npos) << text;
  // The saturation marker on the risky rows (kNastyName and head) and its legend.
  int marked = 0;
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t end = text.find('\n', line_start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(line_start, end - line_start);
    if (line.rfind("rank", 0) != 0 && line.find("  !  ") != std::string::npos) ++marked;
    line_start = end + 1;
  }
  EXPECT_EQ(marked, 2) << text;
  EXPECT_NE(text.find("! : the int16 pair sum"), std::string::npos);
}

TEST(AnalysisReport, TextMaxRows) {
  const std::string text = AnalysisText(Sample(), 2);
  EXPECT_NE(text.find("block1/conv"), std::string::npos);
  EXPECT_EQ(text.find("  stem"), std::string::npos) << text;
  EXPECT_NE(text.find("5 more layers not shown"), std::string::npos) << text;
  EXPECT_EQ(AnalysisText(Sample(), 0), AnalysisText(Sample(), -1));
}

// --- HTML ---------------------------------------------------------------------------------

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

TEST(AnalysisReport, HtmlSelfContainedAndEscaped) {
  const AnalysisReport r = Sample();
  const std::string html = RenderReportHtml(r);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* external : {"http://", "https://", "<link", "src=", "@import", "url("}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  // Names escaped, never raw.
  EXPECT_EQ(html.find(kNastyName), std::string::npos);
  EXPECT_EQ(html.find("<v2>"), std::string::npos);
  EXPECT_EQ(html.find("aux<out>"), std::string::npos);
  EXPECT_EQ(html.find("<target>"), std::string::npos);
  EXPECT_NE(html.find("data-name=\"conv&lt;1&gt;&amp;&quot;a&#39;\\b\""), std::string::npos);
  EXPECT_NE(html.find("model &lt;v2&gt; &amp; &quot;friends&quot;.onnx"), std::string::npos);
  EXPECT_EQ(html.find('\x01'), std::string::npos);
  // One row per layer, in worst-first order; the elements the browser test looks for.
  EXPECT_EQ(Count(html, "<table id=\"layers\""), 1u);
  EXPECT_EQ(Count(html, "<tr class=\"layer\""), r.layers.size());
  EXPECT_EQ(Count(html, "data-risk=\"1\">"), 2u);
  EXPECT_LT(html.find("data-name=\"broken\""), html.find("data-name=\"block1/conv\""));
  EXPECT_LT(html.find("data-name=\"block1/conv\""), html.find("data-name=\"stem\""));
  EXPECT_EQ(Count(html, "<svg id=\"sqnr-chart\""), 1u);
  EXPECT_NE(html.find("layer index"), std::string::npos);
  EXPECT_NE(html.find("SQNR (dB)"), std::string::npos);
  EXPECT_EQ(Count(html, "class=\"histogram\""), r.activations.size());
  EXPECT_EQ(Count(html, "class=\"clip\""), 2 * r.activations.size());
  EXPECT_EQ(Count(html, "class=\"weight-ranges\""), r.weights.size());
  EXPECT_EQ(Count(html, "<section id=\"raised\">"), 1u);
  EXPECT_EQ(Count(html, "<tr class=\"raised\""), 2u);
  EXPECT_NE(html.find("int16"), std::string::npos);
  EXPECT_EQ(Count(html, "<section id=\"saturation\">"), 1u);
  EXPECT_EQ(Count(html, "<tr class=\"saturation\""), 2u);
  EXPECT_NE(html.find("equalization: true"), std::string::npos);
  EXPECT_NE(html.find("0.997310"), std::string::npos);
  EXPECT_NE(html.find("calibration"), std::string::npos);
  // Balanced svg and script tags; the script marks the page ready.
  EXPECT_EQ(Count(html, "<svg"), Count(html, "</svg>"));
  EXPECT_EQ(Count(html, "<script>"), 1u);
  EXPECT_EQ(Count(html, "</script>"), 1u);
  EXPECT_NE(html.find("data-ready"), std::string::npos);
}

TEST(AnalysisReport, HtmlCapsPlotsForLargeModels) {
  AnalysisReport r;
  r.model = "big.onnx";
  const int n = 600;
  for (int i = 0; i < n; ++i) {
    LayerAnalysis l = Layer("layer" + std::to_string(i), "Conv", 10 + (i * 37) % 50, 10 + (i * 37) % 50 - 1, 0);
    r.layers.push_back(l);
    ActivationHistogram h;
    h.tensor = l.input_tensor;
    h.min = -1;
    h.max = 1;
    h.clip_min = -1;
    h.clip_max = 1;
    h.counts.assign(2048, 7);
    r.activations.push_back(h);
    WeightRanges w;
    w.node = l.name;
    w.tensor = l.name + ".w";
    w.channel_min.assign(1024, -1);
    w.channel_max.assign(1024, 1);
    r.weights.push_back(w);
  }
  const std::string html = RenderReportHtml(r);
  EXPECT_EQ(Count(html, "<tr class=\"layer\""), static_cast<size_t>(n));
  EXPECT_EQ(Count(html, "class=\"histogram\""), 64u);
  EXPECT_EQ(Count(html, "class=\"weight-ranges\""), 64u);
  EXPECT_NE(html.find("Showing 64 of 600 activations"), std::string::npos);
  EXPECT_LT(html.size(), 4u << 20) << "report too large: " << html.size() << " bytes";
  // The plotted histograms are those of the worst layers: layer0 has 10 dB (one of the worst).
  EXPECT_NE(html.find("data-tensor=\"layer0:in\""), std::string::npos);
}

TEST(AnalysisReport, ExtremeValuesStayBounded) {
  AnalysisReport r = Sample();
  r.layers[0].sqnr_db = -std::numeric_limits<double>::max();
  r.layers[1].sqnr_db = std::numeric_limits<double>::max();
  r.layers[2].sqnr_db_accumulated = -std::numeric_limits<double>::infinity();
  r.activations[0].min = std::nanf("");
  r.activations[1].clip_max = std::numeric_limits<float>::infinity();
  r.activations[2].counts.clear();
  r.weights[0].channel_min.clear();
  r.weights[1].channel_max = {std::nanf("")};
  const std::string html = RenderReportHtml(r);  // must terminate
  EXPECT_EQ(html.find("nan"), std::string::npos);
  EXPECT_EQ(html.find("inf\""), std::string::npos);
  EXPECT_LT(html.size(), 1u << 20);
  Json doc;
  EXPECT_TRUE(JsonParser(AnalysisJson(r)).Parse(doc));
}

TEST(AnalysisReport, TextAlignsUtf8Names) {
  AnalysisReport r;
  r.layers.push_back(Layer("\xc3\xa9t\xc3\xa9", "Conv", 10, 10, 0));  // "été": 3 columns, 5 bytes
  r.layers.push_back(Layer("abc", "Conv", 20, 20, 0));
  const std::string text = AnalysisText(r);
  // The input column starts at the same column on both rows.
  const size_t a = text.find("\xc3\xa9t\xc3\xa9  "), b = text.find("abc  ");
  ASSERT_NE(a, std::string::npos) << text;
  ASSERT_NE(b, std::string::npos) << text;
  const auto col = [&](size_t pos) {
    const size_t line = text.rfind('\n', pos) + 1;
    size_t n = 0;
    for (size_t i = line; i < pos; ++i) n += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    return n;
  };
  EXPECT_EQ(col(a), col(b)) << text;
  EXPECT_EQ(col(text.find(":in", a)), col(text.find(":in", b))) << text;
}

TEST(AnalysisReport, HtmlOfEmptyReport) {
  const std::string html = RenderReportHtml(AnalysisReport{});
  EXPECT_NE(html.find("<svg id=\"sqnr-chart\""), std::string::npos);
  EXPECT_EQ(Count(html, "<tr class=\"layer\""), 0u);
  EXPECT_NE(html.find("<section id=\"raised\">"), std::string::npos);
  EXPECT_EQ(html.find("nan"), std::string::npos);
}

// Writes the sample page to $DOPT_REPORT_SAMPLE_OUT (for the browser test); otherwise only
// renders it.
TEST(AnalysisReport, WritesSample) {
  const std::string html = RenderReportHtml(Sample());
  ASSERT_FALSE(html.empty());
  const char* path = std::getenv("DOPT_REPORT_SAMPLE_OUT");
  if (path == nullptr || *path == '\0') return;
  std::ofstream f(path, std::ios::binary);
  ASSERT_TRUE(f) << path;
  f << html;
  f.close();
  ASSERT_TRUE(f) << path;
}

}  // namespace
}  // namespace dopt
