// Memory areas on Linux (and Android): the text of /proc/<pid>/maps.
//
// Each line is
//   start-end perms offset major:minor inode [padding path]
// with every number but the inode in hex of any width. The path is the rest of
// the line: it may contain spaces, may be a pseudo path ("[heap]",
// "[stack]", "[anon:name]") and ends in " (deleted)" when the file is gone.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <string>

#include "areas.h"

namespace memmap::os {

namespace {

// Reads the fields of one line from left to right; every method returns false
// (and the line is malformed) when the next characters are not what it wants.
class Fields {
 public:
  explicit Fields(std::string_view line) : rest_(line) {}

  bool hex(uint64_t* value, uint64_t max) { return number(16, value, max); }
  bool decimal(uint64_t* value) {
    return number(10, value, std::numeric_limits<uint64_t>::max());
  }

  bool literal(char expected) {
    if (rest_.empty() || rest_.front() != expected) return false;
    rest_.remove_prefix(1);
    return true;
  }

  // A one-character column that is either `yes` or `no`.
  bool either(char yes, char no, bool* value) {
    if (rest_.empty() || (rest_.front() != yes && rest_.front() != no)) return false;
    *value = rest_.front() == yes;
    rest_.remove_prefix(1);
    return true;
  }

  // The path column: whatever follows the padding, or nothing.
  bool path(std::optional<std::string>* value) {
    if (rest_.empty()) return true;
    if (!literal(' ')) return false;
    size_t padding = rest_.find_first_not_of(' ');
    if (padding == std::string_view::npos) return true;
    *value = std::string(rest_.substr(padding));
    return true;
  }

 private:
  bool number(unsigned base, uint64_t* value, uint64_t max) {
    uint64_t result = 0;
    size_t digits = 0;
    for (; digits < rest_.size(); ++digits) {
      unsigned digit = digit_value(rest_[digits]);
      if (digit >= base) break;
      if (result > (max - digit) / base) return false;
      result = result * base + digit;
    }
    if (digits == 0) return false;
    rest_.remove_prefix(digits);
    *value = result;
    return true;
  }

  static unsigned digit_value(char c) {
    if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
    return 16;
  }

  std::string_view rest_;
};

bool parse_line(std::string_view line, Area* area) {
  uint64_t start, end, offset, major, minor, inode;
  bool read, write, exec, shared;
  Fields fields(line);
  bool parsed = fields.hex(&start, std::numeric_limits<uint64_t>::max()) && fields.literal('-') &&
                fields.hex(&end, std::numeric_limits<uint64_t>::max()) && fields.literal(' ') &&
                fields.either('r', '-', &read) && fields.either('w', '-', &write) &&
                fields.either('x', '-', &exec) && fields.either('s', 'p', &shared) &&
                fields.literal(' ') &&
                fields.hex(&offset, std::numeric_limits<uint64_t>::max()) &&
                fields.literal(' ') && fields.hex(&major, UINT32_MAX) && fields.literal(':') &&
                fields.hex(&minor, UINT32_MAX) && fields.literal(' ') &&
                fields.decimal(&inode) && fields.path(&area->path);
  if (!parsed || start >= end) return false;
  area->start = start;
  area->end = end;
  area->allocation_base = area->start;
  area->protection = (read ? kRead : kNone) | (write ? kWrite : kNone) | (exec ? kExec : kNone);
  area->shared = shared;
  // Anonymous memory and pseudo files ([heap], [vdso]) have no inode; their
  // offset column is meaningless.
  if (inode != 0) area->offset = offset;
  return true;
}

}  // namespace

AreasError parse_proc_maps(std::string_view text, uint64_t start, uint64_t end,
                           std::vector<Area>* out) {
  AreaFilter filter(start, end, out);
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    Area area;
    if (!parse_line(line, &area)) return {Error{}, std::string(line)};
    if (!filter.add(std::move(area))) break;
  }
  return {};
}

AreasError list_areas(uint32_t pid, uint64_t start, uint64_t end, std::vector<Area>* out) {
  std::string path = pid == 0 ? "/proc/self/maps" : "/proc/" + std::to_string(pid) + "/maps";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    // /proc/<pid> is missing exactly when the process is.
    return {Error{errno == ENOENT && pid != 0 ? ESRCH : errno, "open"}, {}};
  }
  // All of it first: parsing is a pure function over text.
  std::string text;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t count = read(fd, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      Error error{errno, "read"};
      close(fd);
      return {error, {}};
    }
    if (count == 0) break;
    text.append(buffer, static_cast<size_t>(count));
  }
  close(fd);
  return parse_proc_maps(text, start, end, out);
}

}  // namespace memmap::os
