// Partition values and statistics as typed literals (PROTOCOL.md "Partition Value
// Serialization"). The same text parsers serve min/max statistics: their dates and
// timestamps are a subset of what partition values allow (ISO-8601 with a 'T' and a zone).
#include "delta/literal.h"

#include <charconv>
#include <cmath>
#include <compare>

#include "base/strings.h"

namespace lake::delta {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

Status BadValue(const DataType& type, std::string_view value, std::string_view why) {
  return Status::Corruption(
             StrCat("partition value \"", value, "\" is not a valid ", type.ToString(), ": ", why))
      .WithHint("the add action's partitionValues break PROTOCOL.md \"Partition Value "
                "Serialization\"");
}

// A tiny cursor over ASCII text.
struct Cursor {
  std::string_view s;
  size_t pos = 0;
  bool done() const { return pos >= s.size(); }
  char peek() const { return done() ? '\0' : s[pos]; }
  bool Eat(char c) {
    if (peek() != c) return false;
    ++pos;
    return true;
  }
  // Reads exactly `n` digits.
  std::optional<int64_t> Digits(int n) {
    if (s.size() - pos < static_cast<size_t>(n)) return std::nullopt;
    int64_t v = 0;
    for (int i = 0; i < n; ++i) {
      char c = s[pos + i];
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    pos += n;
    return v;
  }
  // Reads between `min` and `max` digits (greedy); returns value and count.
  std::optional<std::pair<int64_t, int>> DigitRun(int min, int max) {
    int64_t v = 0;
    int n = 0;
    while (n < max && pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      v = v * 10 + (s[pos] - '0');
      ++pos;
      ++n;
    }
    if (n < min) return std::nullopt;
    return std::make_pair(v, n);
  }
};

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// "[+-]YYYY[YY]-MM-DD" -> days since the epoch.
std::optional<int32_t> ParseDatePart(Cursor& c) {
  bool negative = false;
  if (c.Eat('-')) {
    negative = true;
  } else {
    c.Eat('+');
  }
  auto year = c.DigitRun(4, 6);
  if (!year || !c.Eat('-')) return std::nullopt;
  auto month = c.Digits(2);
  if (!month || !c.Eat('-')) return std::nullopt;
  auto day = c.Digits(2);
  if (!day) return std::nullopt;
  int64_t y = negative ? -year->first : year->first;
  if (*month < 1 || *month > 12) return std::nullopt;
  if (*day < 1 || *day > DaysInMonth(y, static_cast<unsigned>(*month))) return std::nullopt;
  return DaysFromCivil(y, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
}

// Parses a date or timestamp text. Returns micros since the epoch of the wall clock, and the
// zone offset if one was written. `allow_date_only` accepts "YYYY-MM-DD" as midnight.
struct ParsedTime {
  int64_t wall_micros = 0;
  std::optional<int64_t> offset_micros;  // wall = utc + offset
};

std::optional<ParsedTime> ParseTimestampText(std::string_view text) {
  Cursor c{text};
  std::optional<int32_t> days = ParseDatePart(c);
  if (!days) return std::nullopt;
  // int64 microseconds reach about +-292,000 years; keep a margin for the zone offset.
  if (*days > 106'751'000 || *days < -106'751'000) return std::nullopt;
  ParsedTime out;
  out.wall_micros = int64_t{*days} * kMicrosPerDay;
  if (c.done()) return out;  // a bare date: midnight
  if (!c.Eat(' ') && !c.Eat('T')) return std::nullopt;
  auto hour = c.Digits(2);
  if (!hour || !c.Eat(':')) return std::nullopt;
  auto minute = c.Digits(2);
  if (!minute) return std::nullopt;
  int64_t second = 0;
  int64_t micros = 0;
  if (c.Eat(':')) {
    auto sec = c.Digits(2);
    if (!sec) return std::nullopt;
    second = *sec;
    if (c.Eat('.')) {
      auto frac = c.DigitRun(1, 9);
      if (!frac) return std::nullopt;
      // Nanosecond digits beyond micros are dropped (truncation, like Spark's cast).
      int64_t v = frac->first;
      for (int n = frac->second; n < 6; ++n) v *= 10;
      for (int n = frac->second; n > 6; --n) v /= 10;
      micros = v;
    }
  }
  if (*hour > 23 || *minute > 59 || second > 59) return std::nullopt;
  out.wall_micros += ((*hour * 60 + *minute) * 60 + second) * kMicrosPerSecond + micros;
  if (c.done()) return out;
  if (c.Eat('Z') || c.Eat('z')) {
    out.offset_micros = 0;
  } else {
    bool negative;
    if (c.Eat('+')) {
      negative = false;
    } else if (c.Eat('-')) {
      negative = true;
    } else {
      return std::nullopt;
    }
    auto oh = c.Digits(2);
    if (!oh) return std::nullopt;
    int64_t om = 0;
    if (!c.done()) {
      c.Eat(':');
      auto m = c.Digits(2);
      if (!m) return std::nullopt;
      om = *m;
    }
    if (*oh > 18 || om > 59) return std::nullopt;
    int64_t off = (*oh * 60 + om) * 60 * kMicrosPerSecond;
    out.offset_micros = negative ? -off : off;
  }
  if (!c.done()) return std::nullopt;
  return out;
}

std::optional<int64_t> ParseIntegerInRange(std::string_view s, int64_t lo, int64_t hi) {
  std::string_view digits = s;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  std::optional<int64_t> v = ParseInt64(digits);
  if (!v || *v < lo || *v > hi) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  // ERANGE on underflow still yields a usable (denormal/zero) value; overflow gives +-inf.
  if (ptr != s.data() + s.size()) return std::nullopt;
  if (ec != std::errc() && ec != std::errc::result_out_of_range) return std::nullopt;
  return v;
}

__int128 Pow10(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  bool negative = v < 0;
  unsigned __int128 u = negative ? -static_cast<unsigned __int128>(v) : v;
  std::string out;
  while (u > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (negative) out.push_back('-');
  return std::string(out.rbegin(), out.rend());
}

std::string FormatTime(int64_t micros, bool with_zone) {
  int64_t days = micros / kMicrosPerDay;
  int64_t rem = micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  int64_t secs = rem / kMicrosPerSecond;
  int64_t frac = rem % kMicrosPerSecond;
  char buf[64];
  snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lld%s",
           static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
           static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
           static_cast<long long>(frac), with_zone ? "Z" : "");
  return buf;
}

template <typename T>
int Sign(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int CompareDecimals(const Decimal& a, const Decimal& b) {
  if (a.scale == b.scale) return Sign(a.unscaled, b.unscaled);
  // Compare integer parts first, then the fractions at the common scale: rescaling a whole
  // 38-digit value could overflow __int128, rescaling a fraction (< 10^scale) cannot.
  __int128 pa = Pow10(a.scale), pb = Pow10(b.scale);
  __int128 ia = a.unscaled / pa, ib = b.unscaled / pb;
  if (ia != ib) return Sign(ia, ib);
  __int128 fa = a.unscaled % pa, fb = b.unscaled % pb;
  int common = std::max(a.scale, b.scale);
  fa *= Pow10(common - a.scale);
  fb *= Pow10(common - b.scale);
  return Sign(fa, fb);
}

std::optional<int> CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d)) return std::nullopt;
  long double li = static_cast<long double>(i);  // exact: 64-bit mantissa on x86-64
  long double ld = d;
  return Sign(li, ld);
}

}  // namespace

int32_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil: eras of 400 years make the leap rule periodic.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int32_t>(era * 146097 + static_cast<int64_t>(doe) - 719468);
}

void CivilFromDays(int64_t days, int64_t& y, unsigned& m, unsigned& d) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

std::string Decimal::ToString() const {
  std::string digits = Int128ToString(unscaled < 0 ? -unscaled : unscaled);
  std::string out = unscaled < 0 ? "-" : "";
  if (scale <= 0) return out + digits;
  if (digits.size() <= static_cast<size_t>(scale)) {
    digits.insert(0, static_cast<size_t>(scale) - digits.size() + 1, '0');
  }
  out += digits.substr(0, digits.size() - scale);
  out += ".";
  out += digits.substr(digits.size() - scale);
  return out;
}

// Parses decimal text ("-12.30", "1.2E+3") exactly into `precision`/`scale`. Exposed to
// skipping.cc through literal.h's ParsePartitionValue.
static std::optional<Decimal> ParseDecimalText(std::string_view s, int precision, int scale) {
  Cursor c{s};
  bool negative = false;
  if (c.Eat('-')) {
    negative = true;
  } else {
    c.Eat('+');
  }
  std::string digits;
  int frac_digits = 0;
  bool any = false;
  while (!c.done() && c.peek() >= '0' && c.peek() <= '9') {
    digits.push_back(c.s[c.pos++]);
    any = true;
  }
  if (c.Eat('.')) {
    while (!c.done() && c.peek() >= '0' && c.peek() <= '9') {
      digits.push_back(c.s[c.pos++]);
      ++frac_digits;
      any = true;
    }
  }
  if (!any) return std::nullopt;
  int64_t exponent = 0;
  if (c.Eat('e') || c.Eat('E')) {
    bool exp_negative = false;
    if (c.Eat('-')) {
      exp_negative = true;
    } else {
      c.Eat('+');
    }
    auto e = c.DigitRun(1, 4);
    if (!e) return std::nullopt;
    exponent = exp_negative ? -e->first : e->first;
  }
  if (!c.done()) return std::nullopt;
  // value = digits * 10^-(frac_digits - exponent)
  int64_t value_scale = frac_digits - exponent;
  if (value_scale > scale) {
    // Extra fractional digits are only acceptable when they are zeros.
    int64_t drop = value_scale - scale;
    if (drop > static_cast<int64_t>(digits.size())) {
      if (digits.find_first_not_of('0') != std::string::npos) return std::nullopt;
      digits = "0";
    } else {
      std::string_view tail = std::string_view(digits).substr(digits.size() - drop);
      if (tail.find_first_not_of('0') != std::string_view::npos) return std::nullopt;
      digits.resize(digits.size() - drop);
    }
  } else {
    int64_t add = scale - value_scale;
    if (add > 76) return std::nullopt;
    digits.append(static_cast<size_t>(add), '0');
  }
  size_t first = digits.find_first_not_of('0');
  std::string_view significant =
      first == std::string::npos ? std::string_view() : std::string_view(digits).substr(first);
  if (significant.size() > static_cast<size_t>(precision)) return std::nullopt;
  __int128 v = 0;
  for (char ch : significant) v = v * 10 + (ch - '0');
  return Decimal{.unscaled = negative ? -v : v, .precision = precision, .scale = scale};
}

Result<Literal> ParsePartitionValue(const DataType& type, const std::optional<std::string>& value) {
  if (!value) return Literal{};
  return ParseLiteralText(type, *value);
}

Result<Literal> ParseLiteralText(const DataType& type, std::string_view v) {
  if (v.empty()) return Literal{};
  switch (type.kind) {
    case TypeKind::kString:
      return Literal{std::string(v)};
    case TypeKind::kBinary:
      return Literal{Binary{std::string(v)}};
    case TypeKind::kLong:
      if (auto i = ParseIntegerInRange(v, INT64_MIN, INT64_MAX)) return Literal{*i};
      return BadValue(type, v, "not a 64-bit integer");
    case TypeKind::kInteger:
      if (auto i = ParseIntegerInRange(v, INT32_MIN, INT32_MAX)) return Literal{*i};
      return BadValue(type, v, "not a 32-bit integer");
    case TypeKind::kShort:
      if (auto i = ParseIntegerInRange(v, INT16_MIN, INT16_MAX)) return Literal{*i};
      return BadValue(type, v, "not a 16-bit integer");
    case TypeKind::kByte:
      if (auto i = ParseIntegerInRange(v, INT8_MIN, INT8_MAX)) return Literal{*i};
      return BadValue(type, v, "not an 8-bit integer");
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      if (auto d = ParseDouble(v)) return Literal{*d};
      return BadValue(type, v, "not a number");
    case TypeKind::kBoolean: {
      std::string lower = ToLower(v);
      if (lower == "true") return Literal{true};
      if (lower == "false") return Literal{false};
      return BadValue(type, v, "expected true or false");
    }
    case TypeKind::kDecimal:
      if (auto d = ParseDecimalText(v, type.precision, type.scale)) return Literal{*d};
      return BadValue(type, v, "not a decimal that fits the type's precision and scale");
    case TypeKind::kDate: {
      Cursor c{v};
      std::optional<int32_t> days = ParseDatePart(c);
      if (days && c.done()) return Literal{Date{*days}};
      return BadValue(type, v, "expected YYYY-MM-DD");
    }
    case TypeKind::kTimestamp: {
      std::optional<ParsedTime> t = ParseTimestampText(v);
      if (!t) return BadValue(type, v, "expected YYYY-MM-DD HH:MM:SS[.ffffff] or ISO-8601");
      // Zone-less text is read as UTC: the writer's session zone is not recorded anywhere.
      return Literal{Timestamp{t->wall_micros - t->offset_micros.value_or(0)}};
    }
    case TypeKind::kTimestampNtz: {
      std::optional<ParsedTime> t = ParseTimestampText(v);
      if (!t) return BadValue(type, v, "expected YYYY-MM-DD HH:MM:SS[.ffffff]");
      if (t->offset_micros.value_or(0) != 0) {
        return BadValue(type, v, "a timestamp without time zone cannot carry a zone offset");
      }
      return Literal{TimestampNtz{t->wall_micros}};
    }
    case TypeKind::kVoid:
      return Literal{};  // void columns are always null
    case TypeKind::kVariant:
    case TypeKind::kStruct:
    case TypeKind::kArray:
    case TypeKind::kMap:
      return Status::NotSupported(
          StrCat("partition values of type ", type.ToString(), " (value \"", v, "\")"));
  }
  return Status::Internal("unhandled type kind");
}

std::string LiteralToString(const Literal& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
      char buf[64];
      auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, d);
      return std::string(buf, ec == std::errc() ? ptr : buf);
    }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const Decimal& d) const { return d.ToString(); }
    std::string operator()(const Date& d) const {
      int64_t y;
      unsigned m, day;
      CivilFromDays(d.days, y, m, day);
      char buf[32];
      snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, day);
      return buf;
    }
    std::string operator()(const Timestamp& t) const { return FormatTime(t.micros, true); }
    std::string operator()(const TimestampNtz& t) const { return FormatTime(t.micros, false); }
    std::string operator()(const Binary& b) const {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string out;
      out.reserve(b.bytes.size() * 2);
      for (unsigned char c : b.bytes) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
      return out;
    }
  };
  return std::visit(Visitor{}, v);
}

std::optional<int> CompareLiterals(const Literal& a, const Literal& b) {
  if (IsNull(a) || IsNull(b)) return std::nullopt;
  if (a.index() == b.index()) {
    if (const double* da = std::get_if<double>(&a)) {
      double db = std::get<double>(b);
      if (std::isnan(*da) || std::isnan(db)) return std::nullopt;
      return Sign(*da, db);
    }
    if (const Decimal* da = std::get_if<Decimal>(&a)) return CompareDecimals(*da, std::get<Decimal>(b));
    return std::visit(
        [&](const auto& x) -> std::optional<int> {
          using T = std::decay_t<decltype(x)>;
          const T& y = std::get<T>(b);
          return Sign(x, y);
        },
        a);
  }
  // Mixed numeric kinds: an engine may hand an integer literal for a double column.
  if (auto* ia = std::get_if<int64_t>(&a)) {
    if (auto* db = std::get_if<double>(&b)) return CompareIntDouble(*ia, *db);
    if (auto* decb = std::get_if<Decimal>(&b)) {
      return CompareDecimals(Decimal{.unscaled = *ia, .precision = 38, .scale = 0}, *decb);
    }
  }
  if (auto* da = std::get_if<double>(&a)) {
    if (auto* ib = std::get_if<int64_t>(&b)) {
      std::optional<int> r = CompareIntDouble(*ib, *da);
      if (r) return -*r;
      return std::nullopt;
    }
  }
  if (auto* deca = std::get_if<Decimal>(&a)) {
    if (auto* ib = std::get_if<int64_t>(&b)) {
      return CompareDecimals(*deca, Decimal{.unscaled = *ib, .precision = 38, .scale = 0});
    }
  }
  return std::nullopt;
}

}  // namespace lake::delta
