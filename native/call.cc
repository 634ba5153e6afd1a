#include "call.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "errors.h"

namespace memmap {

// A call through asFunction is a few dozen nanoseconds: its argument checks
// are inlined into it, and every throwing path (which builds a message) is
// kept out of it, for a smaller frame and fewer registers saved per call.
#if defined(_MSC_VER)
#define NOINLINE __declspec(noinline)
#define ALWAYS_INLINE __forceinline
#else
#define NOINLINE __attribute__((noinline))
#define ALWAYS_INLINE __attribute__((always_inline))
#endif

namespace {

// Type codes shared with src/function.ts.
enum Type : uint8_t { kI32, kI64, kU64, kPtr, kF64, kVoid };
constexpr size_t kMaxArgs = 6;

struct Callable {
  std::shared_ptr<Region> region;
  uint64_t generation;
  void* code;
  Type args[kMaxArgs];
  size_t arg_count;
  Type returns;
  bool has_f64;  // any argument a double (some conventions then pass them apart)
  bool numbers;  // 64-bit results as numbers, not bigints
  bool jit;  // MAP_JIT pages: switch this thread to executing them (Apple)
};

uint64_t DoubleBits(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

double BitsDouble(uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

#if defined(_WIN32) && (defined(_M_X64) || defined(__x86_64__))
// Windows x64 passes argument i in the i-th register of the class of its type
// (rcx/rdx/r8/r9 or xmm0-3) and the rest on the stack, where a double is just
// its 8 bytes. So the first four positions fix the C type; one instantiation
// per mix of them.
template <typename R, unsigned Mask>
R CallPositional(void* code, const uint64_t* slot) {
  using T0 = std::conditional_t<(Mask & 1) != 0, double, uint64_t>;
  using T1 = std::conditional_t<(Mask & 2) != 0, double, uint64_t>;
  using T2 = std::conditional_t<(Mask & 4) != 0, double, uint64_t>;
  using T3 = std::conditional_t<(Mask & 8) != 0, double, uint64_t>;
  auto as = [](uint64_t bits, auto type) {
    using T = decltype(type);
    if constexpr (std::is_same_v<T, double>) return BitsDouble(bits); else return bits;
  };
  using Fn = R (*)(T0, T1, T2, T3, uint64_t, uint64_t);
  return reinterpret_cast<Fn>(code)(as(slot[0], T0{}), as(slot[1], T1{}), as(slot[2], T2{}),
                                    as(slot[3], T3{}), slot[4], slot[5]);
}

template <typename R, unsigned... Masks>
constexpr auto PositionalTable(std::integer_sequence<unsigned, Masks...>) {
  using Fn = R (*)(void*, const uint64_t*);
  return std::array<Fn, sizeof...(Masks)>{&CallPositional<R, Masks>...};
}

template <typename R>
R Invoke(const Callable& callable, const uint64_t* slot) {
  unsigned mask = 0;
  for (size_t i = 0; i < 4 && i < callable.arg_count; ++i) {
    if (callable.args[i] == kF64) mask |= 1u << i;
  }
  static constexpr auto table = PositionalTable<R>(std::make_integer_sequence<unsigned, 16>{});
  return table[mask](callable.code, slot);
}
#elif defined(__arm__)
// AAPCS with VFP arguments (armhf): doubles go to d0-d7, apart from the
// integers. Integers fill 32-bit words, r0-r3 and then the stack, one word for
// i32 and ptr and an even-aligned pair for i64 and u64 (a pair that no longer
// fits r0-r3 goes to the stack and leaves the registers behind). The words are
// laid out here, then passed as plain 32-bit arguments: the first four land in
// r0-r3, the rest on the stack in order, which is where the callee looks.
constexpr size_t kWords = 2 * kMaxArgs;  // six pairs; padding only ever follows a single word

template <typename R>
R Invoke(const Callable& callable, const uint64_t* slot) {
  uint32_t words[kWords] = {};
  double floats[kMaxArgs] = {};
  size_t word_count = 0, float_count = 0;
  for (size_t i = 0; i < callable.arg_count; ++i) {
    switch (callable.args[i]) {
      case kF64:
        floats[float_count++] = BitsDouble(slot[i]);
        break;
      case kI64:
      case kU64:
        word_count += word_count % 2;
        words[word_count++] = static_cast<uint32_t>(slot[i]);
        words[word_count++] = static_cast<uint32_t>(slot[i] >> 32);
        break;
      default:
        words[word_count++] = static_cast<uint32_t>(slot[i]);
        break;
    }
  }
  using Fn = R (*)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t,
                   uint32_t, uint32_t, uint32_t, uint32_t, double, double, double, double, double,
                   double);
  const uint32_t* w = words;
  return reinterpret_cast<Fn>(callable.code)(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8],
                                             w[9], w[10], w[11], floats[0], floats[1], floats[2],
                                             floats[3], floats[4], floats[5]);
}
#elif defined(__i386__) || defined(_M_IX86)
// cdecl on x86: every argument on the stack, in order, in 4-byte units with
// no padding: one word for i32 and ptr, two for i64, u64 and f64.
constexpr size_t kWords = 2 * kMaxArgs;

template <typename R>
R Invoke(const Callable& callable, const uint64_t* slot) {
  uint32_t words[kWords] = {};
  size_t word_count = 0;
  for (size_t i = 0; i < callable.arg_count; ++i) {
    words[word_count++] = static_cast<uint32_t>(slot[i]);
    if (callable.args[i] == kI64 || callable.args[i] == kU64 || callable.args[i] == kF64) {
      words[word_count++] = static_cast<uint32_t>(slot[i] >> 32);
    }
  }
  using Fn = R(__cdecl*)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t,
                         uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
  const uint32_t* w = words;
  return reinterpret_cast<Fn>(callable.code)(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8],
                                             w[9], w[10], w[11]);
}
#else
// System V x86-64 and AAPCS64 assign integer and floating-point arguments to
// their own register sequences independently, so one signature with six of
// each reaches any mix of up to six arguments.
template <typename R>
R Invoke(const Callable& callable, const uint64_t* slot) {
  if (!callable.has_f64) {
    using Integers = R (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
    return reinterpret_cast<Integers>(callable.code)(slot[0], slot[1], slot[2], slot[3], slot[4],
                                                     slot[5]);
  }
  uint64_t ints[kMaxArgs] = {};
  double floats[kMaxArgs] = {};
  size_t int_count = 0, float_count = 0;
  for (size_t i = 0; i < callable.arg_count; ++i) {
    if (callable.args[i] == kF64) {
      floats[float_count++] = BitsDouble(slot[i]);
    } else {
      ints[int_count++] = slot[i];
    }
  }
  using Fn = R (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, double, double,
                   double, double, double, double);
  return reinterpret_cast<Fn>(callable.code)(ints[0], ints[1], ints[2], ints[3], ints[4],
                                             ints[5], floats[0], floats[1], floats[2],
                                             floats[3], floats[4], floats[5]);
}
#endif

const char* TypeName(Type type) {
  static const char* const kNames[] = {"i32", "i64", "u64", "ptr", "f64", "void"};
  return kNames[type];
}

// The largest pointer as a double (exact: 2^32 - 1, or 2^53 - 1, which is all
// a number can hold exactly, in a 64-bit process).
constexpr int64_t kMaxSafeInteger = 9007199254740991;
constexpr double kMaxPointer =
    sizeof(uintptr_t) < 8 ? static_cast<double>(UINTPTR_MAX) : 9007199254740991.0;
constexpr const char* kPointerRange =
    sizeof(uintptr_t) < 8 ? "an address within 32 bits (this is a 32-bit process)"
                          : "a safe integer (or a bigint)";

constexpr const char* kAnInteger = "an integer number or a bigint";

NOINLINE bool Fail(napi_env env, size_t index, Type type, const char* expected) {
  ThrowError(Napi::Env(env), "ERR_INVALID_ARG_TYPE",
             "argument " + std::to_string(index) + " (" + TypeName(type) + ") must be " +
                 expected);
  return false;
}

// Converts argument `index` to its 64-bit slot, or throws. Numbers are tried
// first, without asking for the type: one Node-API call in the common case.
ALWAYS_INLINE inline bool Convert(napi_env env, napi_value value, Type type, size_t index,
                                  uint64_t* slot) {
  double number;
  if (napi_get_value_double(env, value, &number) == napi_ok) {
    if (type == kF64) {
      *slot = DoubleBits(number);
      return true;
    }
    // Every range below lies within +-2^53, where a double converts to
    // int64_t and back exactly if, and only if, it is an integer: one round
    // trip instead of std::trunc() on every call.
    bool in_range = type == kI32   ? number >= -2147483648.0 && number <= 4294967295.0
                    : type == kI64 ? std::fabs(number) <= 9007199254740991.0
                    : type == kPtr ? number >= 0 && number <= kMaxPointer
                                   : number >= 0 && number <= 9007199254740991.0;
    if (in_range) {
      int64_t whole = static_cast<int64_t>(number);
      if (static_cast<double>(whole) != number) return Fail(env, index, type, kAnInteger);
      *slot = type == kI32
                  ? static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(whole)))
                  : static_cast<uint64_t>(whole);
      return true;
    }
    if (std::trunc(number) != number) return Fail(env, index, type, kAnInteger);
    return Fail(env, index, type,
                type == kI32   ? "within 32 bits"
                : type == kPtr ? kPointerRange
                               : "a safe integer (or a bigint)");
  }
  if (type == kF64) return Fail(env, index, type, "a number");
  if (type == kI32) return Fail(env, index, type, "a 32-bit integer number");
  bool lossless = false;
  napi_status status;
  if (type == kI64) {
    int64_t signed_value = 0;
    status = napi_get_value_bigint_int64(env, value, &signed_value, &lossless);
    *slot = static_cast<uint64_t>(signed_value);
  } else {
    status = napi_get_value_bigint_uint64(env, value, slot, &lossless);
  }
  if (status != napi_ok) return Fail(env, index, type, kAnInteger);
  if (!lossless) return Fail(env, index, type, "a bigint within 64 bits");
  // A pointer cut to its low bits would point somewhere else entirely.
  if (type == kPtr && *slot > UINTPTR_MAX) return Fail(env, index, type, kPointerRange);
  return true;
}

NOINLINE napi_value ThrowClosed(napi_env env) {
  ThrowError(Napi::Env(env), "ERR_MMAP_CLOSED",
             "the handle this function was made from was unmapped or consumed");
  return nullptr;
}

NOINLINE napi_value ThrowArgumentCount(napi_env env, size_t expected, size_t got) {
  ThrowError(Napi::Env(env), "ERR_MMAP_ARGUMENT_COUNT",
             "expected " + std::to_string(expected) + " arguments, got " + std::to_string(got));
  return nullptr;
}

NOINLINE napi_value ThrowUnsafeResult(napi_env env, Type type, uint64_t value) {
  bool is_signed = type == kI64;
  ThrowError(Napi::Env(env), "ERR_OUT_OF_RANGE",
             std::string("the ") + TypeName(type) + " result " +
                 (is_signed ? std::to_string(static_cast<int64_t>(value)) : std::to_string(value)) +
                 " is not a safe integer: a number cannot hold it exactly (leave out "
                 "numbers: true to get a bigint)");
  return nullptr;
}

// One instance per argument count: Node-API fills every slot of argv, so
// room for one argument more than declared is just enough to tell too many.
template <size_t Arity>
napi_value Call(napi_env env, napi_callback_info info) {
  size_t argc = Arity + 1;
  napi_value argv[Arity + 1];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  const Callable& callable = *static_cast<Callable*>(data);

  const Region& region = *callable.region;
  if (!region.live() || region.generation() != callable.generation) return ThrowClosed(env);
  if (argc != Arity) return ThrowArgumentCount(env, Arity, argc);
  uint64_t slot[kMaxArgs] = {};
  for (size_t i = 0; i < Arity; ++i) {
    if (!Convert(env, argv[i], callable.args[i], i, &slot[i])) return nullptr;
  }

  napi_value result = nullptr;
  if (callable.jit) os::jit_write_mode(false);
  double real = 0;
  uint64_t value = 0;
  if (callable.returns == kF64) {
    real = Invoke<double>(callable, slot);
  } else {
    value = Invoke<uint64_t>(callable, slot);
  }
  if (callable.jit) os::jit_write_mode(true);
  if (callable.returns == kF64) {
    napi_create_double(env, real, &result);
    return result;
  }
  // A 32-bit function returns a pointer in one register; the other half of
  // the 64-bit result holds whatever was left in the next one.
  if (callable.returns == kPtr) value = static_cast<uintptr_t>(value);
  if (callable.numbers && callable.returns != kI32 && callable.returns != kVoid) {
    bool is_signed = callable.returns == kI64;
    int64_t as_signed = static_cast<int64_t>(value);
    bool exact = is_signed ? as_signed >= -kMaxSafeInteger && as_signed <= kMaxSafeInteger
                           : value <= static_cast<uint64_t>(kMaxSafeInteger);
    if (!exact) return ThrowUnsafeResult(env, callable.returns, value);
    napi_create_double(env, is_signed ? static_cast<double>(as_signed) : static_cast<double>(value),
                       &result);
    return result;
  }
  switch (callable.returns) {
    case kI32: napi_create_int32(env, static_cast<int32_t>(value), &result); break;
    case kI64: napi_create_bigint_int64(env, static_cast<int64_t>(value), &result); break;
    case kU64:
    case kPtr: napi_create_bigint_uint64(env, value, &result); break;
    default: napi_get_undefined(env, &result); break;
  }
  return result;
}

void Finalize(napi_env, void* data, void*) { delete static_cast<Callable*>(data); }

}  // namespace

Napi::Value NewCallable(Napi::Env env, std::shared_ptr<Region> region, size_t offset,
                        Napi::Value signature) {
  Napi::Object spec = signature.As<Napi::Object>();
  Napi::Array args = spec.Get("args").As<Napi::Array>();
  if (args.Length() > kMaxArgs) {
    return ThrowError(env, "ERR_INVALID_ARG_VALUE",
                      "at most " + std::to_string(kMaxArgs) + " arguments are supported, got " +
                          std::to_string(args.Length()));
  }
  auto* callable = new Callable{};
  callable->arg_count = args.Length();
  callable->has_f64 = false;
  for (uint32_t i = 0; i < callable->arg_count; ++i) {
    callable->args[i] = static_cast<Type>(args.Get(i).As<Napi::Number>().Uint32Value());
    callable->has_f64 = callable->has_f64 || callable->args[i] == kF64;
  }
  callable->returns = static_cast<Type>(spec.Get("returns").As<Napi::Number>().Uint32Value());
  callable->numbers = spec.Get("numbers").ToBoolean().Value();
  callable->jit = spec.Get("jit").ToBoolean().Value();
  callable->code = region->address() + offset;
  callable->generation = region->generation();
  callable->region = std::move(region);

  static constexpr napi_callback kCalls[kMaxArgs + 1] = {Call<0>, Call<1>, Call<2>, Call<3>,
                                                         Call<4>, Call<5>, Call<6>};
  napi_value function;
  if (napi_create_function(env, "generated", NAPI_AUTO_LENGTH, kCalls[callable->arg_count],
                           callable, &function) !=
          napi_ok ||
      napi_add_finalizer(env, function, callable, Finalize, nullptr, nullptr) != napi_ok) {
    delete callable;
    return Napi::Value();
  }
  return Napi::Value(env, function);
}

}  // namespace memmap
