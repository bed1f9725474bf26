"""Stand-in for vLLM's OpenAI-compatible server, for tests only: these machines have no GPU.

It takes vLLM's command line (`vllm serve MODEL [flags]`), failing on an unknown flag and on the flag
combinations vLLM refuses, as vLLM does. It then "loads" for a while, answering 503 on /health, and
serves GET /health, GET /v1/models and POST /v1/chat/completions (streamed or not) like vLLM (the served model name, 404
for another model, 400 for tool_choice "auto" without --enable-auto-tool-choice), and POST /v1/completions,
streamed (server-sent events, usage in the last chunk with stream_options.include_usage) or not, at set
rates: the first token after prompt_tokens / STANDIN_PROMPT_TPS seconds, then one token every
1 / STANDIN_GEN_TPS seconds (max_tokens of them with ignore_eos), so a benchmark's arithmetic can be
checked against known rates. A prompt is text (a token a word) or a list of token ids.

Behaviour for failure tests, through the environment:
    STANDIN_LOAD_SECONDS  how long loading takes (default 2)
    STANDIN_NEVER_READY   1: stays loading (503) for ever
    STANDIN_EXIT_AFTER    N: exits with code 3 after N seconds, as a crashing engine would
An API key (--api-key, or VLLM_API_KEY as vLLM reads it) guards every /v1 route as vLLM guards them: 401
without "Authorization: Bearer <key>"; /health stays open.
Rates for benchmarks:
    STANDIN_PROMPT_TPS    prompt tokens processed per second (default 5000)
    STANDIN_GEN_TPS       tokens generated per second, per request (default 200)
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KV_CACHE_DTYPES = ["auto", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc", "fp8_ds_mla"]
TOOL_CALL_PARSERS = ["hermes", "qwen3_coder", "qwen3_xml", "llama3_json", "mistral", "pythonic", "openai"]


def chat_prompt_tokens(request):
    """A chat request's prompt in tokens, a token a word: every message's text (a string, or text parts) and the
    tool definitions."""
    words = 0
    for message in request.get("messages") or []:
        content = message.get("content")
        parts = content if isinstance(content, list) else [{"text": content or ""}]
        words += sum(len(str(part.get("text") or "").split()) for part in parts if isinstance(part, dict))
    tools = request.get("tools")
    return words + (len(json.dumps(tools).split()) if tools else 0)


def parse(argv):
    parser = argparse.ArgumentParser(prog="vllm")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve")
    serve.add_argument("model")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--served-model-name", nargs="+")
    serve.add_argument("--dtype", default="auto", choices=["auto", "half", "float16", "bfloat16", "float", "float32"])
    serve.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    serve.add_argument("--max-model-len", type=int)
    serve.add_argument("--kv-cache-dtype", default="auto", choices=KV_CACHE_DTYPES)
    serve.add_argument("--max-num-seqs", type=int)
    serve.add_argument("--enable-prefix-caching", action="store_true")
    serve.add_argument("--enable-auto-tool-choice", action="store_true")
    serve.add_argument("--tool-call-parser", choices=TOOL_CALL_PARSERS)
    serve.add_argument("--download-dir")
    serve.add_argument("--trust-remote-code", action="store_true")
    serve.add_argument("--tensor-parallel-size", type=int, default=1)
    serve.add_argument("--api-key")
    serve.add_argument("--attention-backend")
    serve.add_argument("--hf-overrides", type=json.loads, default={})
    serve.add_argument("--enforce-eager", action="store_true")
    serve.add_argument("--distributed-executor-backend", choices=["ray", "mp", "uni", "external_launcher"])
    serve.add_argument("--kv-cache-memory-bytes", type=int)
    args = parser.parse_args(argv)
    if args.enable_auto_tool_choice and not args.tool_call_parser:
        parser.error("--enable-auto-tool-choice requires --tool-call-parser to be set")
    if not 0 < args.gpu_memory_utilization <= 1:
        parser.error("--gpu-memory-utilization must be in (0, 1], got %s" % args.gpu_memory_utilization)
    return args


def check_max_len(args):
    """vLLM's model-config check: the max model length may not pass config.json's max_position_embeddings
    (after --hf-overrides); vLLM 0.33 does not scale it by a YaRN factor."""
    with open(os.path.join(args.model, "config.json")) as handle:
        config = json.load(handle)
    config.update(args.hf_overrides)
    derived = config.get("max_position_embeddings")
    if derived and args.max_model_len and args.max_model_len > derived:
        sys.stderr.write("standin-vllm: ValueError: User-specified max_model_len (%d) is greater than the derived "
                         "max_model_len (max_position_embeddings=%s or model_max_length=None in model's config.json)\n"
                         % (args.max_model_len, derived))
        sys.exit(1)


class Engine:
    def __init__(self, args, load_seconds, never_ready):
        self.args = args
        self.names = args.served_model_name or [args.model]
        self.ready_at = None if never_ready else time.time() + load_seconds
        self.prompt_tps = float(os.environ.get("STANDIN_PROMPT_TPS", "5000"))
        self.gen_tps = float(os.environ.get("STANDIN_GEN_TPS", "200"))
        self.api_key = args.api_key or os.environ.get("VLLM_API_KEY") or None

    def authorized(self, path, headers):
        return not (self.api_key and path.startswith("/v1")) or \
            headers.get("Authorization") == "Bearer %s" % self.api_key

    @property
    def ready(self):
        return self.ready_at is not None and time.time() >= self.ready_at


def handler(engine):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("standin-vllm: %s\n" % (fmt % args))

        def reply(self, status, body):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, status, kind, message):
            self.reply(status, {"error": {"message": message, "type": kind, "code": status}})

        def do_GET(self):
            if not engine.authorized(self.path, self.headers):
                return self.reply(401, {"error": "Unauthorized"})
            if not engine.ready:
                return self.error(503, "ServiceUnavailable", "the model is loading")
            if self.path == "/health":
                return self.reply(200, None)
            if self.path == "/v1/models":
                return self.reply(200, {"object": "list", "data": [
                    {"id": name, "object": "model", "owned_by": "vllm", "root": engine.args.model,
                     "max_model_len": engine.args.max_model_len} for name in engine.names]})
            return self.error(404, "NotFoundError", "Not Found")

        def do_POST(self):
            if not engine.authorized(self.path, self.headers):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                return self.reply(401, {"error": "Unauthorized"})
            if not engine.ready:
                return self.error(503, "ServiceUnavailable", "the model is loading")
            if self.path not in ("/v1/chat/completions", "/v1/completions"):
                return self.error(404, "NotFoundError", "Not Found")
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if request.get("model") not in engine.names:
                return self.error(404, "NotFoundError", "The model `%s` does not exist." % request.get("model"))
            if self.path == "/v1/completions":
                return self.completion(request)
            if request.get("tool_choice") == "auto" and not engine.args.enable_auto_tool_choice:
                return self.error(400, "BadRequestError", '"auto" tool choice requires --enable-auto-tool-choice '
                                                          "and --tool-call-parser to be set")
            # the prompt is read first: the messages' text and the tool definitions, a token a word
            prompt_tokens = chat_prompt_tokens(request)
            if request.get("stream"):
                return self.chat_stream(request, prompt_tokens)
            time.sleep(prompt_tokens / engine.prompt_tps)
            self.reply(200, {
                "id": "chatcmpl-standin", "object": "chat.completion", "created": int(time.time()),
                "model": request["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "stand-in reply from %s" % request["model"]}}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 1, "total_tokens": prompt_tokens + 1},
            })

        def chat_stream(self, request, prompt_tokens):
            """A streamed chat completion as vLLM sends it: the headers at once, then, once the prompt is read, a role
            delta, the content, a finish, usage, [DONE]."""
            base = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": request["model"]}
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            time.sleep(prompt_tokens / engine.prompt_tps)
            chunks = [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
            for word in ("stand-in", " reply", " from", " " + request["model"]):
                chunks.append({"index": 0, "delta": {"content": word}, "finish_reason": None})
            chunks.append({"index": 0, "delta": {}, "finish_reason": "stop"})
            for choice in chunks:
                time.sleep(1.0 / engine.gen_tps)
                self.wfile.write(("data: %s\n\n" % json.dumps(dict(base, choices=[choice]))).encode())
                self.wfile.flush()
            if (request.get("stream_options") or {}).get("include_usage"):
                usage = {"prompt_tokens": prompt_tokens, "completion_tokens": 4, "total_tokens": prompt_tokens + 4}
                self.wfile.write(("data: %s\n\n" % json.dumps(dict(base, choices=[], usage=usage))).encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

        def completion(self, request):
            prompt = request.get("prompt") or ""
            prompt_tokens = len(prompt) if isinstance(prompt, list) else len(str(prompt).split())
            max_tokens = int(request.get("max_tokens") or 16)
            if engine.args.max_model_len and prompt_tokens + max_tokens > engine.args.max_model_len:
                return self.error(400, "BadRequestError", "This model's maximum context length is %d tokens; the "
                                  "request has %d" % (engine.args.max_model_len, prompt_tokens + max_tokens))
            # without ignore_eos the stand-in "meets" an end of sequence after a quarter of max_tokens
            count = max_tokens if request.get("ignore_eos") or request.get("min_tokens") else max(1, max_tokens // 4)
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": count,
                     "total_tokens": prompt_tokens + count}
            base = {"id": "cmpl-standin", "object": "text_completion", "created": int(time.time()),
                    "model": request["model"]}
            time.sleep(prompt_tokens / engine.prompt_tps)
            if not request.get("stream"):
                time.sleep((count - 1) / engine.gen_tps)
                return self.reply(200, dict(base, choices=[{"index": 0, "text": " tok" * count,
                                                            "finish_reason": "length"}], usage=usage))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            start = time.time()
            for n in range(count):
                # paced from the first token, so the rate holds whatever the writes cost
                time.sleep(max(0.0, start + n / engine.gen_tps - time.time()))
                chunk = dict(base, choices=[{"index": 0, "text": " tok", "logprobs": None,
                                             "finish_reason": "length" if n == count - 1 else None}])
                self.wfile.write(("data: %s\n\n" % json.dumps(chunk)).encode())
                self.wfile.flush()
            if (request.get("stream_options") or {}).get("include_usage"):
                self.wfile.write(("data: %s\n\n" % json.dumps(dict(base, choices=[], usage=usage))).encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.model.startswith("/") and not os.path.isfile(os.path.join(args.model, "config.json")):
        sys.stderr.write("standin-vllm: %s is not a model directory (no config.json)\n" % args.model)
        sys.exit(1)
    if args.model.startswith("/"):
        check_max_len(args)
    engine = Engine(args, float(os.environ.get("STANDIN_LOAD_SECONDS", "2")),
                    os.environ.get("STANDIN_NEVER_READY") == "1")
    exit_after = os.environ.get("STANDIN_EXIT_AFTER")
    if exit_after:
        def crash():
            sys.stderr.write("standin-vllm: engine core died (STANDIN_EXIT_AFTER)\n")
            sys.stderr.flush()
            os._exit(3)
        threading.Timer(float(exit_after), crash).start()
    if engine.ready_at is not None:
        def loaded():
            sys.stderr.write("standin-vllm: model loaded, ready\n")
            sys.stderr.flush()
        threading.Timer(max(engine.ready_at - time.time(), 0), loaded).start()
    server = ThreadingHTTPServer((args.host, args.port), handler(engine))
    names = ", ".join(engine.names)
    sys.stderr.write("standin-vllm: serving %s as %s on %s:%d\n" % (args.model, names, args.host, args.port))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
