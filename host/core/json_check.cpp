#include "core/json_check.hpp"

#include <cstdint>

namespace psahost {
namespace {

class Scanner {
 public:
  Scanner(std::string_view text, std::size_t max_depth, bool paired_surrogates)
      : p_(text.data()),
        end_(text.data() + text.size()),
        max_depth_(max_depth),
        paired_surrogates_(paired_surrogates) {}

  bool document() {
    skip_space();
    if (!value(0)) return false;
    skip_space();
    return p_ == end_;
  }

 private:
  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size()) return false;
    if (std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  bool digits() {
    const char* start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ > start;
  }

  bool number() {
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    return true;
  }

  static unsigned unit(const char* p) {
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = p[i];
      v = v * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
  }

  // At the 'u' of an escape: a high surrogate must be followed by an escaped low one, and a low
  // surrogate must not stand alone. On a pair, steps over the first escape of the two.
  bool surrogate_paired() {
    const unsigned u = unit(p_ + 1);
    if (u >= 0xDC00 && u <= 0xDFFF) return false;
    if (u < 0xD800 || u > 0xDBFF) return true;
    if (end_ - p_ < 11 || p_[5] != '\\' || p_[6] != 'u' || !hex(p_[7]) || !hex(p_[8]) ||
        !hex(p_[9]) || !hex(p_[10])) {
      return false;
    }
    const unsigned low = unit(p_ + 7);
    if (low < 0xDC00 || low > 0xDFFF) return false;
    p_ += 6;
    return true;
  }

  static bool hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  // One UTF-8 sequence starting at a lead byte >= 0x80.
  bool utf8() {
    const auto b0 = static_cast<unsigned char>(*p_);
    std::size_t n = 0;
    uint32_t cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = 2, cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      n = 3, cp = b0 & 0x0F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      n = 4, cp = b0 & 0x07;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(p_[k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    p_ += n;
    return true;
  }

  bool string() {
    ++p_;  // the opening quote
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++p_ == end_) return false;
        switch (*p_) {
          case '"':
          case '\\':
          case '/':
          case 'b':
          case 'f':
          case 'n':
          case 'r':
          case 't':
            ++p_;
            break;
          case 'u':
            if (end_ - p_ < 5 || !hex(p_[1]) || !hex(p_[2]) || !hex(p_[3]) || !hex(p_[4])) {
              return false;
            }
            if (paired_surrogates_ && !surrogate_paired()) return false;
            p_ += 5;
            break;
          default:
            return false;
        }
      } else if (c >= 0x80) {
        if (!utf8()) return false;
      } else {
        ++p_;
      }
    }
    return false;
  }

  bool value(std::size_t depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': {
        if (depth >= max_depth_) return false;
        ++p_;
        skip_space();
        if (p_ < end_ && *p_ == '}') {
          ++p_;
          return true;
        }
        for (;;) {
          skip_space();
          if (p_ == end_ || *p_ != '"' || !string()) return false;
          skip_space();
          if (p_ == end_ || *p_ != ':') return false;
          ++p_;
          skip_space();
          if (!value(depth + 1)) return false;
          skip_space();
          if (p_ == end_) return false;
          if (*p_ == '}') {
            ++p_;
            return true;
          }
          if (*p_ != ',') return false;
          ++p_;
        }
      }
      case '[': {
        if (depth >= max_depth_) return false;
        ++p_;
        skip_space();
        if (p_ < end_ && *p_ == ']') {
          ++p_;
          return true;
        }
        for (;;) {
          skip_space();
          if (!value(depth + 1)) return false;
          skip_space();
          if (p_ == end_) return false;
          if (*p_ == ']') {
            ++p_;
            return true;
          }
          if (*p_ != ',') return false;
          ++p_;
        }
      }
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

  const char* p_;
  const char* end_;
  std::size_t max_depth_;
  bool paired_surrogates_;
};

}  // namespace

bool is_json(std::string_view text, std::size_t max_depth) {
  return Scanner(text, max_depth, false).document();
}

bool is_unicode_json(std::string_view text, std::size_t max_depth) {
  return Scanner(text, max_depth, true).document();
}

}  // namespace psahost
