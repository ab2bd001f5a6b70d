/* sitegen: semantic search in the browser, for static hosts (sitegen build --semantic).
   Loaded by search.js with import() only when a visitor asks for meaning-based results.

   Two designs, named by semantic/manifest.json:
   - "browser": the catalog's own ONNX model run by onnxruntime-web (WASM, single thread),
     BERT WordPiece tokenization as the CLI does it, mean pooling in the graph;
   - "static": a distilled static model: the mean of the query's token vectors.
   Either way the query vector is compared with every entry's int8 vector (cosine).
   Files are fetched once and kept in Cache Storage (their names carry a content hash). */

var CACHE = "sitegen-semantic-v1";

/* ---- WordPiece, as BertNormalizer + BertPreTokenizer + WordPiece do it ---- */

function isCjk(cp) {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) || (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

var CONTROL = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}]/u;
var SPACE = /[\s\p{Zs}]/u;
var MARK = /\p{Mn}/gu;
var PUNCT = /[\p{P}]/u;

function isPunct(ch) {
  var cp = ch.codePointAt(0);
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  return PUNCT.test(ch);
}

/* The words of a text: cleaned, CJK spaced, lower-cased and accent-stripped, split on spaces
   and punctuation (each punctuation mark is a word of its own). */
export function basicTokens(text, lowercase) {
  var cleaned = "";
  for (var ch of String(text)) {
    var cp = ch.codePointAt(0);
    if (cp === 0 || cp === 0xfffd) continue;
    if (ch === "\t" || ch === "\n" || ch === "\r" || SPACE.test(ch)) { cleaned += " "; continue; }
    if (CONTROL.test(ch)) continue;
    cleaned += isCjk(cp) ? " " + ch + " " : ch;
  }
  if (lowercase) cleaned = cleaned.toLowerCase().normalize("NFD").replace(MARK, "");
  var words = [];
  cleaned.split(" ").forEach(function (piece) {
    if (!piece) return;
    var current = "";
    for (var c of piece) {
      if (isPunct(c)) {
        if (current) words.push(current);
        words.push(c);
        current = "";
      } else {
        current += c;
      }
    }
    if (current) words.push(current);
  });
  return words;
}

export function Tokenizer(vocabText, config) {
  var vocab = new Map();
  vocabText.split("\n").forEach(function (token, index) {
    if (token !== "" || index === 0) vocab.set(token, index);
  });
  this.vocab = vocab;
  this.config = config;
}

/* Token ids of a text (no [CLS]/[SEP]). */
Tokenizer.prototype.wordIds = function (text) {
  var vocab = this.vocab;
  var unk = this.config.unk;
  var maxChars = this.config.max_chars_per_word || 100;
  var ids = [];
  basicTokens(text, this.config.lowercase !== false).forEach(function (word) {
    var chars = Array.from(word);
    if (chars.length > maxChars) { ids.push(unk); return; }
    var pieces = [];
    var start = 0;
    while (start < chars.length) {
      var end = chars.length;
      var found = -1;
      while (start < end) {
        var piece = chars.slice(start, end).join("");
        if (start > 0) piece = "##" + piece;
        if (vocab.has(piece)) { found = vocab.get(piece); break; }
        end--;
      }
      if (found < 0) { pieces = [unk]; break; }
      pieces.push(found);
      start = end;
    }
    Array.prototype.push.apply(ids, pieces);
  });
  return ids;
};

/* Model input: [CLS] ids [SEP], truncated to the model's max_length as the CLI truncates. */
Tokenizer.prototype.modelIds = function (text) {
  var ids = this.wordIds(text).slice(0, Math.max(0, (this.config.max_length || 256) - 2));
  return [this.config.cls].concat(ids, [this.config.sep]);
};

/* ---- fetching, once ---- */

function openCache() {
  try {
    return typeof caches === "object" && caches ? caches.open(CACHE).catch(function () { return null; }) : Promise.resolve(null);
  } catch (e) {
    return Promise.resolve(null);
  }
}

function readBody(response, onBytes) {
  if (!response.body || !onBytes) return response.arrayBuffer();
  var reader = response.body.getReader();
  var chunks = [];
  var size = 0;
  function pump() {
    return reader.read().then(function (step) {
      if (step.done) {
        var out = new Uint8Array(size);
        var at = 0;
        chunks.forEach(function (c) { out.set(c, at); at += c.length; });
        return out.buffer;
      }
      chunks.push(step.value);
      size += step.value.length;
      onBytes(step.value.length);
      return pump();
    });
  }
  return pump();
}

/* A hashed file's bytes: from Cache Storage if there, else fetched and stored. */
function fetchOnce(cache, url, onBytes) {
  var cached = cache ? cache.match(url).catch(function () { return null; }) : Promise.resolve(null);
  return cached.then(function (hit) {
    if (hit) return hit.arrayBuffer();
    return fetch(url).then(function (response) {
      if (!response.ok) throw new Error(url + ": HTTP " + response.status);
      var copy = cache ? response.clone() : null;
      return readBody(response, onBytes).then(function (buffer) {
        if (copy) cache.put(url, copy).catch(function () {});
        return buffer;
      });
    });
  });
}

/* Drop cached files of earlier builds (names not in this manifest). */
function prune(cache, keep) {
  if (!cache) return;
  cache.keys().then(function (requests) {
    requests.forEach(function (request) {
      if (keep.indexOf(request.url) < 0) cache.delete(request).catch(function () {});
    });
  }).catch(function () {});
}

/* ---- vectors ---- */

function Rows(buffer, count, dims) {
  this.codes = new Int8Array(buffer, 0, count * dims);
  this.scales = new Float32Array(buffer.slice(count * dims, count * dims + count * 4));
  this.count = count;
  this.dims = dims;
}

function normalise(vector) {
  var norm = 0;
  for (var i = 0; i < vector.length; i++) norm += vector[i] * vector[i];
  norm = Math.sqrt(norm) || 1;
  for (var j = 0; j < vector.length; j++) vector[j] /= norm;
  return vector;
}

/* Cosine distance of a unit query vector to every entry. */
Rows.prototype.distances = function (query) {
  var out = new Float32Array(this.count);
  var dims = this.dims;
  var codes = this.codes;
  for (var row = 0; row < this.count; row++) {
    var dot = 0;
    var base = row * dims;
    for (var i = 0; i < dims; i++) dot += query[i] * codes[base + i];
    out[row] = 1 - dot * this.scales[row];
  }
  return out;
};

/* ---- the engine ---- */

function memoryIsShort(design) {
  var gigabytes = navigator.deviceMemory;
  return typeof gigabytes === "number" && gigabytes < (design === "browser" ? 1 : 0.5);
}

/* Load the bundle named by manifestUrl. progress(loaded, total) reports network bytes.
   Resolves to {design, search(query, kind, limit)}; rejects with an Error whose message
   says why semantic search is unavailable (no WebAssembly, short memory, a failed fetch). */
export function load(manifestUrl, progress) {
  var base = new URL(".", manifestUrl).href;
  return fetch(manifestUrl, { cache: "no-cache" }).then(function (response) {
    if (!response.ok) throw new Error("semantic bundle missing (HTTP " + response.status + ")");
    return response.json();
  }).then(function (manifest) {
    if (manifest.format !== 1) throw new Error("unknown semantic bundle format");
    var design = manifest.design;
    if (design === "browser" && typeof WebAssembly !== "object") {
      throw new Error("this browser has no WebAssembly");
    }
    if (memoryIsShort(design)) throw new Error("this device reports too little memory");
    var files = manifest.files;
    var names = design === "browser" ? ["entries", "vectors", "vocab", "model"] : ["entries", "vectors", "vocab", "tokens"];
    var urls = {};
    var total = 0;
    names.forEach(function (name) {
      urls[name] = new URL(files[name].path, base).href;
      total += files[name].bytes;
    });
    var runtime = {};
    Object.keys(manifest.runtime || {}).forEach(function (name) {
      runtime[name] = new URL(manifest.runtime[name], base).href;
    });
    var loaded = 0;
    function count(n) { loaded += n; if (progress) progress(loaded, total); }
    return openCache().then(function (cache) {
      var keep = names.map(function (n) { return urls[n]; });
      prune(cache, keep);
      var pending = names.map(function (name) { return fetchOnce(cache, urls[name], count); });
      var ort = design === "browser" ? startRuntime(runtime) : Promise.resolve(null);
      return Promise.all(pending.concat([ort])).then(function (parts) {
        var entries = JSON.parse(new TextDecoder().decode(parts[0]));
        var rows = new Rows(parts[1], manifest.count, manifest.dims);
        var tokenizer = new Tokenizer(new TextDecoder().decode(parts[2]), manifest.tokenizer);
        var embed = design === "browser"
          ? modelEmbedder(parts[4], parts[3], tokenizer)
          : Promise.resolve(staticEmbedder(parts[3], tokenizer, manifest.dims));
        return embed.then(function (toVector) {
          return engine(design, entries, rows, toVector);
        });
      });
    });
  });
}

function startRuntime(runtime) {
  return import(runtime["ort.wasm.min.mjs"]).then(function (ort) {
    ort.env.wasm.numThreads = 1; /* static hosts are rarely cross-origin isolated */
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmPaths = {
      mjs: runtime["ort-wasm-simd-threaded.mjs"],
      wasm: runtime["ort-wasm-simd-threaded.wasm"],
    };
    ort.env.logLevel = "error";
    return ort;
  });
}

function modelEmbedder(ort, modelBuffer, tokenizer) {
  return ort.InferenceSession.create(new Uint8Array(modelBuffer), {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  }).then(function (session) {
    return function (text) {
      var ids = tokenizer.modelIds(text);
      var shape = [1, ids.length];
      var input = new ort.Tensor("int64", BigInt64Array.from(ids, function (i) { return BigInt(i); }), shape);
      var mask = new ort.Tensor("int64", new BigInt64Array(ids.length).fill(1n), shape);
      return session.run({ input_ids: input, attention_mask: mask }).then(function (out) {
        return normalise(Float32Array.from(out.sentence_embedding.data));
      });
    };
  });
}

function staticEmbedder(buffer, tokenizer, dims) {
  var vocabSize = tokenizer.vocab.size;
  var table = new Rows(buffer, vocabSize, dims);
  return function (text) {
    var ids = tokenizer.wordIds(text);
    var vector = new Float32Array(dims);
    ids.forEach(function (id) {
      var scale = table.scales[id];
      var base = id * dims;
      for (var i = 0; i < dims; i++) vector[i] += table.codes[base + i] * scale;
    });
    return Promise.resolve(normalise(vector));
  };
}

function engine(design, entries, rows, toVector) {
  return {
    design: design,
    count: entries.length,
    /* Entries ranked by cosine distance: [{type, name, description, distance}]. */
    search: function (query, kind, limit) {
      return toVector(query).then(function (vector) {
        var distances = rows.distances(vector);
        var order = [];
        for (var i = 0; i < entries.length; i++) {
          if (kind === "all" || entries[i][0] === kind) order.push(i);
        }
        order.sort(function (a, b) { return distances[a] - distances[b]; });
        return order.slice(0, limit).map(function (i) {
          return { type: entries[i][0], name: entries[i][1], description: entries[i][2], distance: distances[i] };
        });
      });
    },
  };
}
