"""tier_bench against the vLLM stand-in streaming at set rates: the measured rates land within 10 % of the set
ones, at one request and at several; the server's usage figures are the counts; a server without them fails."""
import pytest

from ansible_collections.strix.opencode.plugins.modules import tier_bench

TOLERANCE = 0.10


@pytest.fixture
def standin(vllm_server, monkeypatch):
    """start(prompt_tps, gen_tps) -> the base URL of the vLLM stand-in streaming at those rates."""
    def start(prompt_tps, gen_tps):
        monkeypatch.setenv("STANDIN_PROMPT_TPS", str(prompt_tps))
        monkeypatch.setenv("STANDIN_GEN_TPS", str(gen_tps))
        return vllm_server(["serve", "/models/orch", "--served-model-name", "orch", "--max-model-len", "8192"])
    return start


def near(measured, expected):
    return abs(measured - expected) <= TOLERANCE * expected


def test_one_request_at_a_time_measures_the_set_rates(run_module, standin):
    url = standin(prompt_tps=4000, gen_tps=50)
    # prompt processing long enough (0.5 s) that the HTTP round trip is noise beside it
    result = run_module(tier_bench, url=url, model="orch", prompt_tokens=2048, gen_tokens=32, repetitions=3, warmup=1)
    assert not result["changed"] and len(result["runs"]) == 3
    for run in result["runs"]:
        assert run["prompt_tokens"] == 2048 and run["completion_tokens"] == 32  # the server's own counts
    summary = result["summary"]
    assert near(summary["gen_tps"]["median"], 50), summary
    assert near(summary["pp_tps"]["median"], 4000), summary
    assert near(summary["ttft_ms"]["median"], 2048 / 4000.0 * 1000), summary
    assert summary["gen_tps"]["min"] <= summary["gen_tps"]["median"] <= summary["gen_tps"]["max"]


def test_concurrent_requests_add_up_to_the_aggregate_rate(run_module, standin):
    url = standin(prompt_tps=8000, gen_tps=40)
    result = run_module(tier_bench, url=url, model="orch", prompt_tokens=64, gen_tokens=24, concurrency=4,
                        repetitions=3, warmup=0)
    assert len(result["runs"]) == 12 and [b["requests"] for b in result["batches"]] == [4, 4, 4]
    assert near(result["summary"]["gen_tps"]["median"], 40), result["summary"]
    # four streams of 40 tokens/s, 24 tokens each after 8 ms of prompt: 96 tokens in 8 ms + 23/40 s
    assert near(result["summary"]["agg_gen_tps"]["median"], 96 / (0.008 + 23 / 40.0)), result["summary"]


def test_a_wrong_model_or_bad_argument_fails_naming_it(run_module, standin):
    url = standin(prompt_tps=8000, gen_tps=400)
    result = run_module(tier_bench, url=url, model="nope", gen_tokens=4, repetitions=1, warmup=0)
    assert result["failed"] and "answered 404" in result["msg"] and "does not exist" in result["msg"]
    result = run_module(tier_bench, url=url, model="orch", concurrency=0)
    assert result["failed"] and result["msg"] == "tier_bench: concurrency must be 1 or more, got 0"
    result = run_module(tier_bench, url="127.0.0.1:1", model="orch")
    assert result["failed"] and "url must be http://host:port" in result["msg"]


def test_a_server_without_usage_figures_fails(run_module, standin, monkeypatch):
    url = standin(prompt_tps=8000, gen_tps=400)
    original = tier_bench.json.dumps

    def no_usage(obj, *args, **kwargs):  # the request without stream_options: the stand-in then sends no usage
        if isinstance(obj, dict) and "stream_options" in obj:
            obj = dict(obj, stream_options={})
        return original(obj, *args, **kwargs)
    monkeypatch.setattr(tier_bench.json, "dumps", no_usage)
    result = run_module(tier_bench, url=url, model="orch", gen_tokens=4, repetitions=1, warmup=0)
    assert result["failed"] and "gave no usage figures" in result["msg"]


def test_spread():
    assert tier_bench.spread([3, 1, 2]) == {"min": 1, "median": 2, "max": 3}
    assert tier_bench.spread([4, 1, 2, 3]) == {"min": 1, "median": 2.5, "max": 4}
    assert tier_bench.spread([None]) == {"min": None, "median": None, "max": None}


def test_a_tier_with_a_key_is_measured_with_the_key_file_and_refused_without(run_module, vllm_server, monkeypatch,
                                                                             tmp_path):
    monkeypatch.setenv("VLLM_API_KEY", "box-key-0123456789abcdef")
    url = vllm_server(["serve", "/models/orch", "--served-model-name", "orch", "--max-model-len", "8192"])
    key_file = tmp_path / "api-key"
    key_file.write_text("box-key-0123456789abcdef\n")
    refused = run_module(tier_bench, url=url, model="orch", gen_tokens=4, repetitions=1, warmup=0)
    assert refused["failed"] and "answered 401" in refused["msg"]
    result = run_module(tier_bench, url=url, model="orch", gen_tokens=4, repetitions=1, warmup=0,
                        api_key_file=str(key_file))
    assert not result.get("failed") and result["runs"][0]["completion_tokens"] == 4
