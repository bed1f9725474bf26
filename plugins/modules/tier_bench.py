#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tier_bench
short_description: Measure an inference tier's speed through its OpenAI-compatible API
version_added: 0.2.0
description:
  - Sends streamed completion requests (C(POST /v1/completions), C(stream), C(stream_options.include_usage)) to a
    tier served by vLLM or llama-server and measures, per request, the time to the first token, prompt processing
    (prompt tokens / time to first token) and generation (tokens after the first / time from the first to the last).
  - The prompt is a list of O(prompt_tokens) token ids, different for every request (so no prefix cache answers
    it), and the answer is forced to O(gen_tokens) tokens (C(max_tokens), C(min_tokens), C(ignore_eos),
    temperature 0), so runs compare. Token counts are the server's own usage figures; a server that gives none
    fails the task.
  - At a concurrency above 1, that many requests are sent at once; besides each request's figures, the aggregate
    generation rate is all generated tokens over the time from the first request sent to the last token received.
  - O(warmup) requests are sent and dropped first, then O(repetitions) measured ones (each a batch of O(concurrency)
    requests); the result has every measurement and their minimum, median and maximum.
  - Runs with Python's standard library only. It only sends requests; nothing on the box changes.
author:
  - strix.opencode maintainers (@strix-opencode)
options:
  url:
    description: The tier's base URL (C(http://127.0.0.1:8011)).
    type: str
    required: true
  model:
    description: The served model name the requests ask for.
    type: str
    required: true
  prompt_tokens:
    description: Tokens in the prompt.
    type: int
    default: 512
  gen_tokens:
    description: Tokens to generate per request.
    type: int
    default: 128
  concurrency:
    description: Requests sent at once.
    type: int
    default: 1
  repetitions:
    description: Measured batches (at least 3 for a median that means something).
    type: int
    default: 3
  warmup:
    description: Batches sent first and not measured (loads caches, compiles kernels).
    type: int
    default: 1
  token_range:
    description: The token ids the prompts are drawn from (low, high); inside every default model's vocabulary.
    type: list
    elements: int
    default: [1000, 30000]
  timeout:
    description: Seconds one request may take.
    type: float
    default: 600
  api_key_file:
    description: A file on the host holding the tier's API key, sent as a bearer token (read by the module, never an
      argument).
    type: path
extends_documentation_fragment:
  - strix.opencode.read_only
"""

EXAMPLES = r"""
- name: Time the reviewer at 4096 prompt tokens, one request at a time
  strix.opencode.tier_bench:
    url: http://127.0.0.1:8011
    model: Llama-3.3-70B-Instruct-Q4_K_M
    prompt_tokens: 4096
    gen_tokens: 128
  register: bench

- name: Its median generation rate
  ansible.builtin.debug:
    msg: "{{ bench.summary.gen_tps.median }} tokens/s"
"""

RETURN = r"""
runs:
  description: Every measured request.
  returned: always
  type: list
  elements: dict
  contains:
    ttft_ms:
      description: Time to the first token (ms).
      type: float
    pp_tps:
      description: Prompt tokens per second (prompt tokens / time to first token).
      type: float
    gen_tps:
      description: Generated tokens per second after the first.
      type: float
    prompt_tokens:
      description: Prompt tokens, as the server counted them.
      type: int
    completion_tokens:
      description: Generated tokens, as the server counted them.
      type: int
batches:
  description: Every measured batch, with its aggregate generation rate (C(agg_gen_tps)) and wall time.
  returned: always
  type: list
  elements: dict
summary:
  description: Minimum, median and maximum of C(ttft_ms), C(pp_tps), C(gen_tps) over the runs, and of C(agg_gen_tps)
    over the batches.
  returned: always
  type: dict
  sample:
    gen_tps: {min: 48.1, median: 49.7, max: 50.2}
"""

import json
import random
import socket
import threading
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.parse import urlparse
from ansible_collections.strix.opencode.plugins.module_utils.api_key import KeyError_, auth_headers, read_key


class BenchError(Exception):
    pass


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return {"min": None, "median": None, "max": None}
    return {"min": round(min(values), 2), "median": round(_median(values), 2), "max": round(max(values), 2)}


def one_request(url, model, prompt, gen_tokens, timeout, headers=None):
    """One streamed completion; its timings and the server's usage."""
    parsed = urlparse(url)
    body = json.dumps({"model": model, "prompt": prompt, "max_tokens": gen_tokens, "min_tokens": gen_tokens,
                       "ignore_eos": True, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}})
    connection = http_client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=timeout)
    sent = time.time()
    first = last = None
    usage = None
    try:
        connection.request("POST", "/v1/completions", body, dict({"Content-Type": "application/json"}, **(headers or {})))
        response = connection.getresponse()
        if response.status != 200:
            raise BenchError("%s/v1/completions answered %d: %s" % (url, response.status,
                                                                    response.read(500).decode("utf-8", "replace")))
        while True:
            line = response.readline()
            if not line:
                break
            line = line.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                break
            chunk = json.loads(data.decode("utf-8"))
            if chunk.get("usage"):
                usage = chunk["usage"]
            if any(choice.get("text") for choice in chunk.get("choices") or []):
                last = time.time()
                first = first or last
    except (socket.error, http_client.HTTPException, ValueError) as error:
        raise BenchError("%s/v1/completions: %s" % (url, error))
    finally:
        connection.close()
    if not usage or not usage.get("completion_tokens"):
        raise BenchError("%s gave no usage figures in its stream (stream_options.include_usage)" % url)
    if first is None:
        raise BenchError("%s streamed no tokens" % url)
    ttft = first - sent
    completion = int(usage["completion_tokens"])
    return {"ttft_ms": round(ttft * 1000.0, 2), "prompt_tokens": int(usage.get("prompt_tokens") or 0),
            "completion_tokens": completion,
            "pp_tps": round(int(usage.get("prompt_tokens") or 0) / ttft, 2) if ttft > 0 else None,
            "gen_tps": round((completion - 1) / (last - first), 2) if completion > 1 and last > first else None,
            "sent": sent, "last": last}


def batch(url, model, prompts, gen_tokens, timeout, headers=None):
    """The prompts sent at once; each request's figures and the batch's aggregate generation rate."""
    results, errors = [None] * len(prompts), []

    def run(index):
        try:
            results[index] = one_request(url, model, prompts[index], gen_tokens, timeout, headers)
        except BenchError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(prompts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise BenchError(errors[0])
    start = min(r["sent"] for r in results)
    end = max(r["last"] for r in results)
    generated = sum(r["completion_tokens"] for r in results)
    for r in results:
        r.pop("sent")
        r.pop("last")
    return results, {"requests": len(prompts), "wall_s": round(end - start, 3),
                     "agg_gen_tps": round(generated / (end - start), 2) if end > start else None}


def bench(url, model, prompt_tokens, gen_tokens, concurrency, repetitions, warmup, token_range, timeout, seed=None,
          headers=None):
    rng = random.Random(seed)

    def prompts():
        return [[rng.randint(token_range[0], token_range[1]) for _n in range(prompt_tokens)]
                for _m in range(concurrency)]

    for _n in range(warmup):
        batch(url, model, prompts(), gen_tokens, timeout, headers)
    runs, batches = [], []
    for _n in range(repetitions):
        results, summary = batch(url, model, prompts(), gen_tokens, timeout, headers)
        runs.extend(results)
        batches.append(summary)
    return {"runs": runs, "batches": batches,
            "summary": dict([(key, spread([r[key] for r in runs])) for key in ("ttft_ms", "pp_tps", "gen_tps")] +
                            [("agg_gen_tps", spread([b["agg_gen_tps"] for b in batches]))])}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            model=dict(type="str", required=True),
            # counts of tokens, not secrets
            prompt_tokens=dict(type="int", default=512, no_log=False),
            gen_tokens=dict(type="int", default=128, no_log=False),
            concurrency=dict(type="int", default=1),
            repetitions=dict(type="int", default=3),
            warmup=dict(type="int", default=1),
            token_range=dict(type="list", elements="int", default=[1000, 30000], no_log=False),
            timeout=dict(type="float", default=600),
            api_key_file=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for key in ("prompt_tokens", "gen_tokens", "concurrency", "repetitions"):
        if p[key] < 1:
            module.fail_json(msg="tier_bench: %s must be 1 or more, got %d" % (key, p[key]))
    if p["warmup"] < 0:
        module.fail_json(msg="tier_bench: warmup must be 0 or more, got %d" % p["warmup"])
    if len(p["token_range"]) != 2 or not 0 <= p["token_range"][0] <= p["token_range"][1]:
        module.fail_json(msg="tier_bench: token_range must be [low, high] with 0 <= low <= high, got %s"
                         % p["token_range"])
    if not p["url"].startswith("http://"):
        module.fail_json(msg="tier_bench: url must be http://host:port, got %r" % p["url"])
    try:
        headers = auth_headers(read_key(p["api_key_file"]))
        result = bench(p["url"].rstrip("/"), p["model"], p["prompt_tokens"], p["gen_tokens"], p["concurrency"],
                       p["repetitions"], p["warmup"], p["token_range"], p["timeout"], headers=headers)
    except (BenchError, KeyError_) as error:
        module.fail_json(msg="tier_bench: %s" % error)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
