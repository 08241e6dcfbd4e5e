// Every capture of ../shared/corpus read through libpcap with this package:
// open result, header facts, every packet and the final status must equal
// what libpcap itself reported (expected/*.json), on next(), batches() and dispatch().
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkCorpusCapture, type Expected, expectedFiles } from "./_corpus_checks.ts";
import { corpusDir, corpusJson, haveCorpus } from "./_helpers.ts";

const skip = haveCorpus ? false : `no corpus at ${corpusDir}`;
const files = haveCorpus ? expectedFiles() : [];

describe("corpus through libpcap", { skip }, () => {
  test("the corpus has 127 captures", () => assert.equal(files.length, 127));

  for (const rel of files) {
    const exp = corpusJson<Expected>(rel);
    test(exp.path, () => checkCorpusCapture(exp));
  }
});
