// One request line of tacetd's protocol, parsed, and one reply line, written:
// plain functions over bytes, free of I/O, so that the session, the tests and
// the fuzzer (tests/fuzz/request_fuzz.cpp) run the same code.
//
// Whatever the bytes, ParseRequest answers: a request, or the refusal to
// send back (bad_request naming the byte offset, and the field when the
// offending byte lies in one; unknown_op). It never throws, never recurses
// on the input, and the refusal's message is valid UTF-8.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tacet/service/service.h"

namespace tacet {

// Requests nest at most this deep (objects and arrays); a deeper line is
// refused before it is parsed.
inline constexpr size_t kMaxRequestDepth = 64;

struct Request {
  json args;                // the request object
  std::string id = "null";  // its "id" as JSON text, echoed by the reply
  const OpSpec* op = nullptr;
};

// Parses `line` (without its newline) into `out`. Returns the refusal when
// the line is not a request; `out.id` is then the request's id when it
// could be read, else null.
std::optional<Reply> ParseRequest(std::string_view line, Request& out);

// Checks what json::parse would not bound or would quote raw: that `text`
// is valid UTF-8 and nests at most `max_depth` levels. Returns the reason
// otherwise ("not valid UTF-8: field 'subject', byte offset 31 (0xFF)").
std::optional<std::string> CheckJsonText(std::string_view text, size_t max_depth);

// {"id":ID,"result":...}\n or {"id":ID,"error":{"code":..,"message":..}}\n.
// Never throws; `id` must be JSON text (as Request::id).
std::string ReplyLine(std::string_view id, const Reply& r);

}  // namespace tacet
