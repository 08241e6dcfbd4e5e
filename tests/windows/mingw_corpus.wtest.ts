// Windows (Wine) legs deno-mingw / bun-mingw: every capture of ../shared/corpus read through
// the Windows wpcap.dll must equal what libpcap reported on Linux (expected/*.json), through
// next(), batches() and dispatch() -- the same checks as tests/capture_corpus.test.ts, with the
// 16-byte Windows pcap_pkthdr. The corpus is reached through Wine's Z: drive.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkCorpusCapture, type Expected, expectedFiles } from "../_corpus_checks.ts";
import { corpusDir, corpusJson, haveCorpus } from "../_helpers.ts";

describe("mingw wpcap.dll: corpus through libpcap", () => {
  test("the corpus is reachable under Wine (Z:) and has 127 captures", () => {
    assert.ok(haveCorpus, `no corpus at ${corpusDir}`);
    assert.match(corpusDir, /^[A-Z]:\\/, "a Windows path");
    assert.equal(expectedFiles().length, 127);
  });

  for (const rel of haveCorpus ? expectedFiles() : []) {
    const exp = corpusJson<Expected>(rel);
    test(exp.path, () => checkCorpusCapture(exp));
  }
});
