'use strict';
/**
 * The loops every JavaScript contender runs, in Node and in Bun alike, so that
 * contenders differ only in how they reach the bytes. Offsets and checksums
 * match bench/c/baseline.c bit for bit.
 */

/** The 8-byte slots to read, from xorshift32 with baseline.c's seed. */
function randomSlots(count, slotMask) {
  const slots = new Uint32Array(count);
  let x = 2463534242;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    slots[i] = (x & slotMask) >>> 0;
  }
  return slots;
}

/** XOR of both 32-bit halves of each 8-byte slot, read through `words`. */
function xorSlots(words, slots) {
  let acc = 0;
  for (let i = 0; i < slots.length; i++) {
    const at = slots[i] * 2;
    acc ^= words[at] ^ words[at + 1];
  }
  return acc >>> 0;
}

/** The sum of 32-bit words, modulo 2^32. */
function sumWords(words) {
  let sum = 0;
  for (let i = 0; i < words.length; i++) sum = (sum + words[i]) | 0;
  return sum >>> 0;
}

/** Writes one byte into every 4 KiB page of `bytes`. */
function touchPages(bytes) {
  for (let offset = 0; offset < bytes.length; offset += 4096) bytes[offset] = 1;
  return bytes.length / 4096;
}

/** Reads one byte of every `stride`th 4 KiB page of `bytes`. */
function readEveryNthPage(bytes, stride) {
  let sum = 0;
  for (let offset = 0; offset < bytes.length; offset += stride * 4096) sum += bytes[offset];
  return sum;
}

/** A 32-bit word view of a byte view. */
function wordsOf(bytes) {
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
}

/** Seconds since `start` (a `process.hrtime.bigint()`). */
function secondsSince(start) {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** A contender that cannot run a case throws this with the reason for the table. */
class Unsupported extends Error {}

module.exports = { randomSlots, xorSlots, sumWords, touchPages, readEveryNthPage, wordsOf, secondsSince, Unsupported };
