// The views of an AnalysisReport (pipeline/analysis.h): JSON, the text table of `dopt analyze`
// and the self-contained HTML report. Pure formatting: nothing here runs a model.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/analysis.h"

namespace dopt {

namespace {

// --- shared helpers --------------------------------------------------------------------------

// Length of the valid UTF-8 sequence starting at s[i]; 0 when the bytes there are not valid
// UTF-8 (overlong forms, surrogates and code points above U+10FFFF included).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD, UTF-8

// Shortest text that reads back as the same double; "" when not finite.
std::string ShortestNumber(double v) {
  if (!std::isfinite(v)) return "";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

std::string Fixed(double v, int decimals, const char* non_finite = "n/a") {
  if (!std::isfinite(v)) return non_finite;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

// Layer indices sorted worst (lowest isolated SQNR) first, ties in graph order. A NaN SQNR
// (broken measurement) sorts first: it needs looking at.
std::vector<size_t> WorstFirst(const std::vector<LayerAnalysis>& layers) {
  std::vector<size_t> order(layers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto key = [&](size_t i) {
    const double v = layers[i].sqnr_db;
    return std::isnan(v) ? -std::numeric_limits<double>::infinity() : v;
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  return order;
}

bool PairSumRisk(const LayerAnalysis& l) { return l.saturation_risk || l.max_pair_sum > 32767; }

// --- JSON ------------------------------------------------------------------------------------

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      out.append(s.substr(i, n));
      i += n;
      continue;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
}

void AppendJsonNumber(std::string& out, double v) {
  const std::string text = ShortestNumber(v);
  out += text.empty() ? "null" : text;
}

// A minimal writer of one object's members: handles the commas.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }
  void Key(std::string_view key) {
    if (!first_) out_ += ", ";
    first_ = false;
    AppendJsonString(out_, key);
    out_ += ": ";
  }
  void String(std::string_view key, std::string_view v) {
    Key(key);
    AppendJsonString(out_, v);
  }
  void Number(std::string_view key, double v) {
    Key(key);
    AppendJsonNumber(out_, v);
  }
  void Int(std::string_view key, int64_t v) {
    Key(key);
    out_ += std::to_string(v);
  }
  void Bool(std::string_view key, bool v) {
    Key(key);
    out_ += v ? "true" : "false";
  }
  void Close() { out_ += '}'; }

 private:
  std::string& out_;
  bool first_ = true;
};

// --- HTML ------------------------------------------------------------------------------------

// Escapes the five HTML-special characters; invalid UTF-8 and C0 control characters other than
// tab and newline become U+FFFD (they are parse errors in HTML).
std::string Html(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (c >= 0x80) {
          const size_t n = Utf8SequenceLength(s, i);
          if (n == 0) {
            out += kReplacementChar;
            ++i;
          } else {
            out.append(s.substr(i, n));
            i += n;
          }
          continue;
        }
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
          out += kReplacementChar;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out;
}

// SVG coordinates: one decimal is plenty and keeps the page small.
std::string Coord(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

// A short label for an axis value.
std::string Tick(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buf[32];
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e5)) {
    std::snprintf(buf, sizeof(buf), "%.2g", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.4g", v);
  }
  return buf;
}

// "Nice" tick step covering span with about `count` ticks.
double NiceStep(double span, int count) {
  if (!(span > 0) || !std::isfinite(span)) return 1;
  const double raw = span / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return nice * mag;
}

constexpr size_t kMaxPlots = 64;          // histograms and weight plots: the worst layers only
constexpr size_t kMaxHistogramBins = 128;  // display bins per histogram
constexpr size_t kMaxWeightBars = 256;     // display bars per weight

constexpr const char* kStyle = R"CSS(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.5em;margin:0 0 .5em}h2{font-size:1.2em;margin:1.5em 0 .5em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
#summary th{font-weight:600;color:#555}
#layers th{cursor:pointer;user-select:none;background:#f4f4f4;position:sticky;top:0}
#layers th[aria-sort=ascending]::after{content:" \25B2"}#layers th[aria-sort=descending]::after{content:" \25BC"}
#layers td.num{text-align:right;font-variant-numeric:tabular-nums}
#layers td.name{word-break:break-all;max-width:28em}
tr.layer[data-risk="1"]{background:#fde8e8}
.flag{color:#c00;font-weight:700}
.plots{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;border:1px solid #eee;padding:4px}figcaption{font-size:12px;word-break:break-all;max-width:420px}
svg text{font:11px sans-serif;fill:#333}
.note{color:#666;font-size:12px}
)CSS";

// The sort script: click a header to sort (again to reverse); `#sort=<key>[:asc|:desc]` in the
// URL clicks that header on load (the browser test sorts this way). Sets body[data-ready="1"]
// once wired.
constexpr const char* kScript = R"JS(
(function () {
  'use strict';
  var table = document.getElementById('layers');
  function done() { document.body.setAttribute('data-ready', '1'); }
  if (!table || !table.tHead || !table.tBodies.length) { done(); return; }
  var tbody = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  function value(row, i, numeric) {
    var cell = row.cells[i];
    if (!numeric) return cell.textContent;
    var v = parseFloat(cell.getAttribute('data-v'));
    return isNaN(v) ? null : v;
  }
  function sortBy(i, dir) {
    var numeric = heads[i].getAttribute('data-type') === 'num';
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = value(a, i, numeric), y = value(b, i, numeric), c = 0;
      if (x === null || y === null) {
        c = (x === null) - (y === null);  // missing values last either way
      } else {
        c = dir * (numeric ? x - y : x.localeCompare(y));
      }
      return c || (+a.getAttribute('data-index') - +b.getAttribute('data-index'));
    });
    for (var r = 0; r < rows.length; ++r) tbody.appendChild(rows[r]);
    for (var h = 0; h < heads.length; ++h) heads[h].removeAttribute('aria-sort');
    heads[i].setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
    table.setAttribute('data-sort-key', heads[i].getAttribute('data-key'));
    table.setAttribute('data-sort-dir', dir > 0 ? 'asc' : 'desc');
  }
  function indexOfKey(key) {
    for (var h = 0; h < heads.length; ++h) if (heads[h].getAttribute('data-key') === key) return h;
    return -1;
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    th.addEventListener('click', function () {
      var same = table.getAttribute('data-sort-key') === th.getAttribute('data-key');
      var dir = same && table.getAttribute('data-sort-dir') === 'asc' ? -1 : 1;
      sortBy(i, dir);
    });
  });
  // `#sort=<key>[:asc|:desc]` clicks that header (once or twice) as a user would.
  var m = /^#sort=([a-z_]+)(?::(asc|desc))?$/.exec(window.location.hash);
  var i = m ? indexOfKey(m[1]) : -1;
  if (i >= 0) {
    var want = m[2] || 'asc';
    for (var k = 0; k < 2; ++k) {
      if (table.getAttribute('data-sort-key') === m[1] && table.getAttribute('data-sort-dir') === want) break;
      heads[i].click();
    }
  }
  done();
})();
)JS";

struct Column {
  const char* key;
  const char* title;
  bool numeric;
};

constexpr Column kColumns[] = {
    {"index", "#", true},
    {"name", "name", false},
    {"op_type", "op", false},
    {"input_tensor", "input", false},
    {"activation_bits", "bits", true},
    {"sqnr_db", "SQNR dB (isolated)", true},
    {"sqnr_db_accumulated", "SQNR dB (accumulated)", true},
    {"cosine", "cosine (isolated)", true},
    {"cosine_accumulated", "cosine (accumulated)", true},
    {"output_cosine", "output cosine (only this op int8)", true},
    {"max_pair_sum", "max pair sum", true},
    {"saturation_risk", "saturation", true},
};

void AppendNumCell(std::string& out, double sort_value, const std::string& text) {
  out += "<td class=\"num\" data-v=\"" + ShortestNumber(sort_value) + "\">" + text + "</td>";
}

void AppendLayerTable(std::string& out, const AnalysisReport& r, const std::vector<size_t>& worst) {
  // Rendered worst first: sorted ascending by isolated SQNR.
  out += "<table id=\"layers\" data-sort-key=\"sqnr_db\" data-sort-dir=\"asc\">\n<thead><tr>";
  for (const Column& c : kColumns) {
    out += "<th data-key=\"";
    out += c.key;
    out += "\" data-type=\"";
    out += c.numeric ? "num" : "str";
    out += "\"";
    if (std::string_view(c.key) == "sqnr_db") out += " aria-sort=\"ascending\"";
    out += ">";
    out += c.title;
    out += "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (size_t i : worst) {
    const LayerAnalysis& l = r.layers[i];
    const bool risk = PairSumRisk(l);
    out += "<tr class=\"layer\" data-name=\"" + Html(l.name) + "\" data-index=\"" + std::to_string(i) +
           "\" data-risk=\"" + (risk ? "1" : "0") + "\">";
    AppendNumCell(out, static_cast<double>(i), std::to_string(i));
    out += "<td class=\"name\">" + Html(l.name) + "</td>";
    out += "<td>" + Html(l.op_type) + "</td>";
    out += "<td class=\"name\">" + Html(l.input_tensor) + "</td>";
    AppendNumCell(out, l.activation_bits, std::to_string(l.activation_bits));
    AppendNumCell(out, l.sqnr_db, Fixed(l.sqnr_db, 2));
    AppendNumCell(out, l.sqnr_db_accumulated, Fixed(l.sqnr_db_accumulated, 2));
    AppendNumCell(out, l.cosine, Fixed(l.cosine, 6));
    AppendNumCell(out, l.cosine_accumulated, Fixed(l.cosine_accumulated, 6));
    AppendNumCell(out, l.output_cosine, Fixed(l.output_cosine, 6));
    AppendNumCell(out, static_cast<double>(l.max_pair_sum), std::to_string(l.max_pair_sum));
    AppendNumCell(out, risk ? 1 : 0, risk ? "<span class=\"flag\">! risk</span>" : "");
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
}

// The SQNR line chart along the network: isolated and accumulated, x = graph index.
void AppendSqnrChart(std::string& out, const AnalysisReport& r) {
  const double W = 900, H = 320, left = 60, right = 20, top = 20, bottom = 50;
  const double pw = W - left - right, ph = H - top - bottom;
  out += "<svg id=\"sqnr-chart\" width=\"" + Coord(W) + "\" height=\"" + Coord(H) + "\" viewBox=\"0 0 " +
         Coord(W) + " " + Coord(H) + "\" role=\"img\" aria-label=\"SQNR per layer\">\n";
  const size_t n = r.layers.size();
  // Y range over the finite values; values at the cap (zero error) would squash the rest, so
  // the axis stops above the largest uncapped value and capped points sit at the top.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  bool capped = false;
  for (const LayerAnalysis& l : r.layers) {
    for (double v : {l.sqnr_db, l.sqnr_db_accumulated}) {
      if (!std::isfinite(v)) continue;
      if (v >= kMaxSqnrDb) {
        capped = true;
        continue;
      }
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!std::isfinite(lo)) {  // nothing uncapped
    lo = 0;
    hi = capped ? kMaxSqnrDb : 1;
  }
  // Absurd values (a broken measurement) would make an absurd axis: keep it within +-1e6 dB.
  lo = std::max(lo, -1e6);
  hi = std::clamp(hi, lo, 1e6);
  const double step = NiceStep(std::max(hi - lo, 1.0), 6);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  if (hi <= lo) hi = lo + step;
  if (capped && hi < kMaxSqnrDb) hi = std::min(kMaxSqnrDb, hi + step);
  const int y_ticks = static_cast<int>(std::min(100.0, std::floor((hi - lo) / step + 1e-6)));
  const auto X = [&](size_t i) { return n <= 1 ? left + pw / 2 : left + pw * static_cast<double>(i) / (n - 1); };
  const auto Y = [&](double v) { return top + ph * (1 - (std::clamp(v, lo, hi) - lo) / (hi - lo)); };

  // Axes, grid and labels.
  out += "<g class=\"axes\" stroke=\"#999\" fill=\"none\"><path d=\"M" + Coord(left) + " " + Coord(top) + "V" +
         Coord(top + ph) + "H" + Coord(left + pw) + "\"/></g>\n<g class=\"grid\">";
  for (int k = 0; k <= y_ticks; ++k) {
    const double v = lo + k * step;
    out += "<path stroke=\"#eee\" d=\"M" + Coord(left) + " " + Coord(Y(v)) + "H" + Coord(left + pw) + "\"/>";
    out += "<text x=\"" + Coord(left - 6) + "\" y=\"" + Coord(Y(v) + 4) + "\" text-anchor=\"end\">" + Tick(v) +
           "</text>";
  }
  if (n > 0) {
    const double xstep = std::max(1.0, NiceStep(static_cast<double>(n - 1), 10));
    for (double x = 0; x <= static_cast<double>(n - 1) + 1e-9; x += xstep) {
      const size_t i = static_cast<size_t>(std::llround(x));
      out += "<text x=\"" + Coord(X(i)) + "\" y=\"" + Coord(top + ph + 16) + "\" text-anchor=\"middle\">" +
             std::to_string(i) + "</text>";
    }
  }
  out += "</g>\n";
  out += "<text x=\"" + Coord(left + pw / 2) + "\" y=\"" + Coord(H - 8) +
         "\" text-anchor=\"middle\">layer index (graph order)</text>\n";
  out += "<text transform=\"translate(14 " + Coord(top + ph / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">SQNR (dB)</text>\n";
  if (n == 0) {
    out += "<text x=\"" + Coord(left + pw / 2) + "\" y=\"" + Coord(top + ph / 2) +
           "\" text-anchor=\"middle\">no quantized layers</text>\n</svg>\n";
    return;
  }

  // One path per series; a non-finite value breaks the line.
  const auto series = [&](bool accumulated, const char* cls, const char* color) {
    std::string d;
    bool pen_down = false;
    for (size_t i = 0; i < n; ++i) {
      const double v = accumulated ? r.layers[i].sqnr_db_accumulated : r.layers[i].sqnr_db;
      if (!std::isfinite(v)) {
        pen_down = false;
        continue;
      }
      // "h0" after a move: a lone point between two gaps still shows as a dot (round caps).
      d += (pen_down ? "L" : "M") + Coord(X(i)) + " " + Coord(Y(v)) + (pen_down ? "" : "h0");
      pen_down = true;
    }
    out += "<path class=\"" + std::string(cls) + "\" fill=\"none\" stroke=\"" + color +
           "\" stroke-width=\"1.5\" stroke-linecap=\"round\" stroke-linejoin=\"round\" d=\"" + d + "\"/>\n";
  };
  series(true, "accumulated", "#e07b00");
  series(false, "isolated", "#1f6fb5");
  // Points of the isolated series with the layer's name on hover (capped at 1000 layers).
  if (n <= 1000) {
    out += "<g fill=\"#1f6fb5\">";
    for (size_t i = 0; i < n; ++i) {
      const LayerAnalysis& l = r.layers[i];
      if (!std::isfinite(l.sqnr_db)) continue;
      out += "<circle cx=\"" + Coord(X(i)) + "\" cy=\"" + Coord(Y(l.sqnr_db)) + "\" r=\"2.5\"><title>" +
             std::to_string(i) + " " + Html(l.name) + ": " + Fixed(l.sqnr_db, 2) + " dB (accumulated " +
             Fixed(l.sqnr_db_accumulated, 2) + ")</title></circle>";
    }
    out += "</g>\n";
  }
  // Legend.
  const double lx = left + pw - 190, ly = top + 8;
  out += "<g class=\"legend\"><rect x=\"" + Coord(lx - 6) + "\" y=\"" + Coord(ly - 4) +
         "\" width=\"190\" height=\"40\" fill=\"#fff\" fill-opacity=\"0.85\" stroke=\"#ddd\"/>";
  out += "<path stroke=\"#1f6fb5\" stroke-width=\"2\" d=\"M" + Coord(lx) + " " + Coord(ly + 8) + "h20\"/><text x=\"" +
         Coord(lx + 26) + "\" y=\"" + Coord(ly + 12) + "\">isolated (only this op int8)</text>";
  out += "<path stroke=\"#e07b00\" stroke-width=\"2\" d=\"M" + Coord(lx) + " " + Coord(ly + 26) + "h20\"/><text x=\"" +
         Coord(lx + 26) + "\" y=\"" + Coord(ly + 30) + "\">accumulated (all ops up to it)</text></g>\n";
  out += "</svg>\n";
  if (capped) {
    out += "<p class=\"note\">Layers with no measurable error (SQNR capped at " + Fixed(kMaxSqnrDb, 0) +
           " dB) are drawn at the top of the chart.</p>\n";
  }
}

void AppendHistogram(std::string& out, const ActivationHistogram& h) {
  const double W = 420, H = 170, left = 10, right = 10, top = 10, bottom = 40;
  const double pw = W - left - right, ph = H - top - bottom;
  // Merge bins down to at most kMaxHistogramBins display bins.
  const size_t nb = h.counts.size();
  const size_t group = nb == 0 ? 1 : (nb + kMaxHistogramBins - 1) / kMaxHistogramBins;
  std::vector<int64_t> bins;
  for (size_t i = 0; i < nb; i += group) {
    int64_t s = 0;
    for (size_t k = i; k < std::min(nb, i + group); ++k) s += std::max<int64_t>(0, h.counts[k]);
    bins.push_back(s);
  }
  int64_t peak = 0;
  for (int64_t c : bins) peak = std::max(peak, c);
  out += "<figure><svg class=\"histogram\" data-tensor=\"" + Html(h.tensor) + "\" width=\"" + Coord(W) +
         "\" height=\"" + Coord(H) + "\" viewBox=\"0 0 " + Coord(W) + " " + Coord(H) + "\">";
  out += "<rect x=\"" + Coord(left) + "\" y=\"" + Coord(top) + "\" width=\"" + Coord(pw) + "\" height=\"" +
         Coord(ph) + "\" fill=\"#fafafa\" stroke=\"#ddd\"/>";
  const double lo = h.min, hi = h.max;
  const bool has_range = std::isfinite(lo) && std::isfinite(hi) && hi > lo;
  if (!bins.empty() && peak > 0) {
    const double bw = pw / static_cast<double>(bins.size());
    const double lpeak = std::log10(1.0 + static_cast<double>(peak));
    std::string d;
    for (size_t i = 0; i < bins.size(); ++i) {
      if (bins[i] <= 0) continue;
      const double bh = ph * std::log10(1.0 + static_cast<double>(bins[i])) / lpeak;
      d += "M" + Coord(left + bw * i) + " " + Coord(top + ph) + "v" + Coord(-bh) + "h" + Coord(bw) + "v" +
           Coord(bh) + "z";
    }
    out += "<path fill=\"#7aa6d6\" d=\"" + d + "\"/>";
  } else {
    out += "<text x=\"" + Coord(left + pw / 2) + "\" y=\"" + Coord(top + ph / 2) +
           "\" text-anchor=\"middle\">no data</text>";
  }
  // Clip range lines (clamped to the plot when the clip range exceeds the observed range).
  if (has_range) {
    const auto X = [&](double v) { return left + pw * (std::clamp(v, lo, hi) - lo) / (hi - lo); };
    if (lo < 0 && hi > 0) {
      out += "<path stroke=\"#999\" stroke-dasharray=\"2 2\" d=\"M" + Coord(X(0)) + " " + Coord(top) + "V" +
             Coord(top + ph) + "\"/>";
    }
    for (double c : {static_cast<double>(h.clip_min), static_cast<double>(h.clip_max)}) {
      if (!std::isfinite(c)) continue;
      out += "<path class=\"clip\" stroke=\"#d00\" stroke-width=\"1.5\" d=\"M" + Coord(X(c)) + " " + Coord(top) +
             "V" + Coord(top + ph) + "\"/>";
    }
  }
  out += "<text x=\"" + Coord(left) + "\" y=\"" + Coord(top + ph + 14) + "\">" + Tick(lo) + "</text>";
  out += "<text x=\"" + Coord(left + pw) + "\" y=\"" + Coord(top + ph + 14) + "\" text-anchor=\"end\">" + Tick(hi) +
         "</text>";
  out += "<text x=\"" + Coord(left + pw / 2) + "\" y=\"" + Coord(top + ph + 30) +
         "\" text-anchor=\"middle\" fill=\"#d00\">clip [" + Tick(h.clip_min) + ", " + Tick(h.clip_max) +
         "]</text>";
  out += "</svg><figcaption>" + Html(h.tensor) + " &mdash; observed [" + Tick(h.min) + ", " + Tick(h.max) +
         "], log counts";
  if (group > 1) out += ", " + std::to_string(nb) + " bins shown as " + std::to_string(bins.size());
  out += "</figcaption></figure>\n";
}

void AppendWeightRanges(std::string& out, const WeightRanges& w) {
  const double W = 420, H = 170, left = 46, right = 10, top = 10, bottom = 30;
  const double pw = W - left - right, ph = H - top - bottom;
  const size_t nc = std::min(w.channel_min.size(), w.channel_max.size());
  // Group channels into at most kMaxWeightBars bars (min of mins, max of maxes).
  const size_t group = nc == 0 ? 1 : (nc + kMaxWeightBars - 1) / kMaxWeightBars;
  std::vector<std::pair<double, double>> bars;
  double amax = 0;
  for (size_t i = 0; i < nc; i += group) {
    double mn = std::numeric_limits<double>::infinity(), mx = -mn;
    for (size_t k = i; k < std::min(nc, i + group); ++k) {
      if (std::isfinite(w.channel_min[k])) mn = std::min(mn, static_cast<double>(w.channel_min[k]));
      if (std::isfinite(w.channel_max[k])) mx = std::max(mx, static_cast<double>(w.channel_max[k]));
    }
    bars.emplace_back(mn, mx);
    if (std::isfinite(mn)) amax = std::max(amax, std::fabs(mn));
    if (std::isfinite(mx)) amax = std::max(amax, std::fabs(mx));
  }
  if (!(amax > 0)) amax = 1;
  const auto Y = [&](double v) { return top + ph * (1 - (v + amax) / (2 * amax)); };
  out += "<figure><svg class=\"weight-ranges\" data-node=\"" + Html(w.node) + "\" width=\"" + Coord(W) +
         "\" height=\"" + Coord(H) + "\" viewBox=\"0 0 " + Coord(W) + " " + Coord(H) + "\">";
  out += "<rect x=\"" + Coord(left) + "\" y=\"" + Coord(top) + "\" width=\"" + Coord(pw) + "\" height=\"" +
         Coord(ph) + "\" fill=\"#fafafa\" stroke=\"#ddd\"/>";
  out += "<path stroke=\"#999\" d=\"M" + Coord(left) + " " + Coord(Y(0)) + "H" + Coord(left + pw) + "\"/>";
  if (!bars.empty()) {
    const double bw = pw / static_cast<double>(bars.size());
    const double sw = std::max(0.5, std::min(bw * 0.8, 6.0));
    std::string d;
    for (size_t i = 0; i < bars.size(); ++i) {
      const auto [mn, mx] = bars[i];
      if (!std::isfinite(mn) || !std::isfinite(mx)) continue;
      // At least 1px tall so that a zero-width range stays visible.
      const double y1 = Y(mx), y2 = std::max(Y(mn), y1 + 1);
      d += "M" + Coord(left + bw * (i + 0.5)) + " " + Coord(y1) + "V" + Coord(y2);
    }
    out += "<path stroke=\"#5b8f3a\" stroke-width=\"" + Coord(sw) + "\" d=\"" + d + "\"/>";
  }
  for (double v : {amax, 0.0, -amax}) {
    out += "<text x=\"" + Coord(left - 4) + "\" y=\"" + Coord(Y(v) + 4) + "\" text-anchor=\"end\">" + Tick(v) +
           "</text>";
  }
  out += "<text x=\"" + Coord(left + pw / 2) + "\" y=\"" + Coord(H - 8) + "\" text-anchor=\"middle\">" +
         (nc <= 1 ? std::string("per tensor") : "output channel (" + std::to_string(nc) + ")") + "</text>";
  out += "</svg><figcaption>" + Html(w.node) + " &mdash; " + Html(w.tensor) + " min/max per channel";
  if (group > 1) out += ", " + std::to_string(group) + " channels per bar";
  out += "</figcaption></figure>\n";
}

// Rank of each layer in worst-first order (by name and by tensor), to choose which plots to
// show when there are many: those of the worst layers.
template <typename T, typename KeyFn>
std::vector<size_t> PickWorst(const std::vector<T>& items, const std::map<std::string, size_t>& rank_of, KeyFn keys,
                              size_t cap) {
  std::vector<size_t> idx(items.size());
  std::vector<size_t> rank(items.size(), std::numeric_limits<size_t>::max());
  for (size_t i = 0; i < items.size(); ++i) {
    idx[i] = i;
    for (const std::string& k : keys(items[i])) {
      auto it = rank_of.find(k);
      if (it != rank_of.end()) rank[i] = std::min(rank[i], it->second);
    }
  }
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return rank[a] < rank[b]; });
  if (idx.size() > cap) idx.resize(cap);
  return idx;
}

// One section of plots: heading, note (with how many of how many are shown when capped) and
// the plots `append` writes.
template <typename Fn>
void AppendPlotSection(std::string& out, const char* title, const char* id, const char* note, const char* what,
                       size_t shown, size_t total, Fn append) {
  out += std::string("<h2>") + title + "</h2>\n<p class=\"note\">" + note;
  if (shown < total) {
    out += " Showing " + std::to_string(shown) + " of " + std::to_string(total) + " " + what + ": those of the " +
           std::to_string(kMaxPlots) + " worst layers by isolated SQNR.";
  }
  out += std::string("</p>\n<div class=\"plots\" id=\"") + id + "\">\n";
  append(out);
  if (shown == 0) out += "<p>none recorded</p>\n";
  out += "</div>\n";
}

}  // namespace


std::string AnalysisJson(const AnalysisReport& r) {
  std::string out;
  JsonObject o(out);
  o.String("model", r.model);
  o.String("strategy", r.strategy);
  o.String("calibration_method", r.calibration_method);
  o.Int("samples", r.samples);
  o.Int("analysis_samples", r.analysis_samples);
  o.Number("output_cosine", r.output_cosine);
  o.Key("output_cosines");
  {
    JsonObject c(out);
    for (const auto& [name, v] : r.output_cosines) c.Number(name, v);
    c.Close();
  }
  o.Key("options");
  out += '[';
  for (size_t i = 0; i < r.options.size(); ++i) {
    if (i) out += ", ";
    AppendJsonString(out, r.options[i]);
  }
  out += ']';
  o.Int("quantized_ops", r.quantized_ops);
  o.Int("float_ops", r.float_ops);
  o.Key("raised");
  out += '[';
  for (size_t i = 0; i < r.raised.size(); ++i) {
    if (i) out += ", ";
    JsonObject e(out);
    e.String("name", r.raised[i].node);
    e.String("op_type", r.raised[i].op_type);
    e.String("precision", r.raised[i].precision);
    e.String("reason", r.raised[i].reason);
    e.Close();
  }
  out += ']';
  o.Key("layers");
  out += "[";
  bool first = true;
  for (size_t i : WorstFirst(r.layers)) {
    const LayerAnalysis& l = r.layers[i];
    out += first ? "\n  " : ",\n  ";
    first = false;
    JsonObject e(out);
    e.String("name", l.name);
    e.String("op_type", l.op_type);
    e.String("input_tensor", l.input_tensor);
    e.String("output_tensor", l.output_tensor);
    e.Int("activation_bits", l.activation_bits);
    e.Number("sqnr_db", l.sqnr_db);
    e.Number("sqnr_db_accumulated", l.sqnr_db_accumulated);
    e.Number("cosine", l.cosine);
    e.Number("cosine_accumulated", l.cosine_accumulated);
    e.Number("output_cosine", l.output_cosine);
    e.Int("max_pair_sum", l.max_pair_sum);
    e.Bool("saturation_risk", l.saturation_risk);
    e.Close();
  }
  out += first ? "]" : "\n]";
  o.Close();
  out += '\n';
  return out;
}

std::string AnalysisText(const AnalysisReport& r, int max_rows) {
  std::string out;
  const auto line = [&](const std::string& s) { out += s + "\n"; };
  // Text cells: control characters would break the alignment.
  const auto clean = [](std::string s) {
    for (char& c : s) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
    }
    return s;
  };
  line("model:          " + clean(r.model));
  line("strategy:       " + clean(r.strategy) +
       (r.calibration_method.empty() ? "" : " (calibration: " + clean(r.calibration_method) + ")"));
  line("samples:        " + std::to_string(r.samples) + " calibration, " + std::to_string(r.analysis_samples) +
       " analysis");
  line("output cosine:  " + Fixed(r.output_cosine, 6) + " (int8 simulation vs float)");
  if (r.output_cosines.size() > 1) {
    for (const auto& [name, v] : r.output_cosines) line("  " + clean(name) + ": " + Fixed(v, 6));
  }
  for (const std::string& o : r.options) line("option:         " + clean(o));
  line("ops:            " + std::to_string(r.quantized_ops) + " quantized, " + std::to_string(r.float_ops) +
       " float");
  out += "\n";

  const std::vector<size_t> order = WorstFirst(r.layers);
  const size_t shown =
      max_rows <= 0 ? order.size() : std::min(order.size(), static_cast<size_t>(max_rows));
  struct Row {
    std::string cells[9];
  };
  static constexpr const char* kHead[9] = {"rank", "sqnr_db", "accum_db", "cosine", "bits", "!", "op_type", "name",
                                           "input"};
  // Right-aligned numeric columns, left-aligned text; the last column is not padded.
  static constexpr bool kRight[9] = {true, true, true, true, true, false, false, false, false};
  std::vector<Row> rows;
  rows.push_back({});
  for (int c = 0; c < 9; ++c) rows[0].cells[c] = kHead[c];
  for (size_t k = 0; k < shown; ++k) {
    const LayerAnalysis& l = r.layers[order[k]];
    Row row;
    row.cells[0] = std::to_string(k + 1);
    row.cells[1] = Fixed(l.sqnr_db, 2);
    row.cells[2] = Fixed(l.sqnr_db_accumulated, 2);
    row.cells[3] = Fixed(l.cosine, 6);
    row.cells[4] = std::to_string(l.activation_bits);
    row.cells[5] = PairSumRisk(l) ? "!" : "";
    row.cells[6] = clean(l.op_type);
    row.cells[7] = clean(l.name);
    row.cells[8] = clean(l.input_tensor);
    rows.push_back(std::move(row));
  }
  // Width in characters: UTF-8 continuation bytes take no column.
  const auto columns = [](const std::string& s) {
    size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
  };
  size_t width[9] = {};
  for (const Row& row : rows) {
    for (int c = 0; c < 9; ++c) width[c] = std::max(width[c], columns(row.cells[c]));
  }
  for (const Row& row : rows) {
    std::string s;
    for (int c = 0; c < 9; ++c) {
      const std::string& cell = row.cells[c];
      const std::string pad(width[c] - columns(cell), ' ');
      if (c) s += "  ";
      if (c == 8) {
        s += cell;
      } else {
        s += kRight[c] ? pad + cell : cell + pad;
      }
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    line(s);
  }
  if (order.empty()) line("(no quantized layers)");
  if (shown < order.size()) line("... " + std::to_string(order.size() - shown) + " more layers not shown");
  bool any_risk = false;
  for (const LayerAnalysis& l : r.layers) any_risk = any_risk || PairSumRisk(l);
  if (any_risk) line("! : the int16 pair sum of x86 u8 x s8 kernels without VNNI can exceed 32767 (saturation risk)");

  if (!r.raised.empty()) {
    out += "\nraised ops (kept above the strategy's precision):\n";
    for (const RaisedOp& op : r.raised) {
      line("  " + clean(op.node) + " (" + clean(op.op_type) + "): " + clean(op.precision) + " - " +
           clean(op.reason));
    }
  }
  return out;
}

std::string RenderReportHtml(const AnalysisReport& r) {
  std::string out;
  out.reserve(64 * 1024);
  const std::string title = "dopt quantization report: " + Html(r.model);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + title + "</title>\n<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  out += "<h1>" + title + "</h1>\n";

  // Summary.
  out += "<h2>Summary</h2>\n<table id=\"summary\">\n";
  const auto row = [&](const std::string& k, const std::string& v_html) {
    out += "<tr><th>" + k + "</th><td>" + v_html + "</td></tr>\n";
  };
  row("model", Html(r.model));
  row("strategy", Html(r.strategy));
  row("calibration method", Html(r.calibration_method));
  row("samples", std::to_string(r.samples) + " calibration, " + std::to_string(r.analysis_samples) + " analysis");
  row("output cosine (int8 vs float)", "<span id=\"output-cosine\">" + Fixed(r.output_cosine, 6) + "</span>");
  for (const auto& [name, v] : r.output_cosines) row("&nbsp;&nbsp;output " + Html(name), Fixed(v, 6));
  std::string opts;
  for (const std::string& o : r.options) opts += (opts.empty() ? "" : "<br>") + Html(o);
  row("options", opts.empty() ? "none" : opts);
  row("weighted ops", std::to_string(r.quantized_ops) + " quantized, " + std::to_string(r.float_ops) + " float");
  row("raised ops", std::to_string(r.raised.size()));
  out += "</table>\n";

  // Per-layer table.
  const std::vector<size_t> worst = WorstFirst(r.layers);
  out += "<h2>Layers</h2>\n<p class=\"note\">" + std::to_string(r.layers.size()) +
         " quantized layers, worst (lowest isolated SQNR) first. Isolated: only that op quantized; accumulated: "
         "it and every quantized op before it. Click a header to sort. Rows marked "
         "<span class=\"flag\">! risk</span>: the largest int16 pair sum can exceed 32767.</p>\n";
  AppendLayerTable(out, r, worst);

  // SQNR along the network.
  out += "<h2>SQNR along the network</h2>\n";
  AppendSqnrChart(out, r);

  // Plots for the worst layers.
  std::map<std::string, size_t> rank_by_name, rank_by_tensor;
  for (size_t k = 0; k < worst.size(); ++k) {
    const LayerAnalysis& l = r.layers[worst[k]];
    rank_by_name.emplace(l.name, k);
    rank_by_tensor.emplace(l.input_tensor, k);
    rank_by_tensor.emplace(l.output_tensor, k);
  }
  const std::vector<size_t> acts = PickWorst(
      r.activations, rank_by_tensor, [](const ActivationHistogram& h) { return std::vector<std::string>{h.tensor}; },
      kMaxPlots);
  AppendPlotSection(out, "Activation histograms", "histograms",
                    "Observed range, log-scaled counts; red lines: the calibrated clip range.", "activations", acts.size(),
                    r.activations.size(), [&](std::string& o) {
                      for (size_t i : acts) AppendHistogram(o, r.activations[i]);
                    });
  const std::vector<size_t> wts = PickWorst(
      r.weights, rank_by_name, [](const WeightRanges& w) { return std::vector<std::string>{w.node}; }, kMaxPlots);
  AppendPlotSection(out, "Weight ranges", "weights", "Per output channel min/max (one bar when per tensor).", "weights",
                    wts.size(), r.weights.size(), [&](std::string& o) {
                      for (size_t i : wts) AppendWeightRanges(o, r.weights[i]);
                    });

  // Raised ops.
  out += "<section id=\"raised\">\n<h2>Raised ops</h2>\n";
  if (r.raised.empty()) {
    out += "<p>None: every quantized op runs at the strategy's precision.</p>\n";
  } else {
    out += "<table><thead><tr><th>name</th><th>op</th><th>precision</th><th>reason</th></tr></thead><tbody>\n";
    for (const RaisedOp& op : r.raised) {
      out += "<tr class=\"raised\" data-name=\"" + Html(op.node) + "\"><td>" + Html(op.node) + "</td><td>" +
             Html(op.op_type) + "</td><td>" + Html(op.precision) + "</td><td>" + Html(op.reason) + "</td></tr>\n";
    }
    out += "</tbody></table>\n";
  }
  out += "</section>\n";

  // Saturation risk.
  out += "<section id=\"saturation\">\n<h2>Saturation risk</h2>\n<p class=\"note\">x86 u8 &times; s8 kernels "
         "without VNNI add two products in int16; these layers' weights and calibrated input range allow a pair "
         "sum above 32767 (option x86_saturation_safe limits the weights).</p>\n";
  std::vector<size_t> risky;
  for (size_t i : worst) {
    if (PairSumRisk(r.layers[i])) risky.push_back(i);
  }
  if (risky.empty()) {
    out += "<p>None.</p>\n";
  } else {
    out += "<table><thead><tr><th>name</th><th>op</th><th>max pair sum</th></tr></thead><tbody>\n";
    for (size_t i : risky) {
      const LayerAnalysis& l = r.layers[i];
      out += "<tr class=\"saturation\" data-name=\"" + Html(l.name) + "\"><td>" + Html(l.name) + "</td><td>" +
             Html(l.op_type) + "</td><td>" + std::to_string(l.max_pair_sum) + "</td></tr>\n";
    }
    out += "</tbody></table>\n";
  }
  out += "</section>\n";

  out += "<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace dopt
