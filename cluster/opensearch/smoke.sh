#!/usr/bin/env bash
# Smoke test for the 2-node OpenSearch cluster of cluster.sh, by hand (the Rust tests are what CI runs).
# Creates index `sou` (2 shards, 1 replica) with zh_words (whitespace analyzer: jieba output,
# words separated by spaces upstream), zh_chars (standard analyzer: Han text -> one token per
# character), en (english analyzer); bulk-indexes 3 docs; checks a match, a match_phrase and an
# English match through BOTH nodes. Bounded loops only. Last line: 'N passed, N failed'.
set -uo pipefail

H=(http://127.0.0.1:9200 http://127.0.0.1:9201)
LAT_N=${LAT_N:-50}
pass=0 fail=0

j() { curl -s -m 10 -H 'Content-Type: application/json' "$@"; }

j -X DELETE "${H[0]}/sou" > /dev/null
j -X PUT "${H[0]}/sou" -d '{
  "settings": { "number_of_shards": 2, "number_of_replicas": 1 },
  "mappings": { "properties": {
    "title":    { "type": "text", "analyzer": "standard" },
    "zh_words": { "type": "text", "analyzer": "whitespace" },
    "zh_chars": { "type": "text", "analyzer": "standard" },
    "en":       { "type": "text", "analyzer": "english" }
  } }
}'; echo

cat > /tmp/sou-bulk.ndjson <<'EOF'
{"index":{"_index":"sou","_id":"1"}}
{"title":"美国商务部将中国法医科学研究院列入实体清单","zh_words":"美国 商务部 将 中国 法医 科学 研究院 列入 实体 清单","zh_chars":"美国商务部将中国法医科学研究院列入实体清单","en":"The U.S. Commerce Department added China's Institute of Forensic Science to the entity list"}
{"index":{"_index":"sou","_id":"2"}}
{"title":"芬太尼检测试纸在多地药店上架","zh_words":"多个 城市 的 药店 开始 销售 芬太尼 检测 试纸","zh_chars":"多个城市的药店开始销售芬太尼检测试纸","en":"Pharmacies in several cities began selling fentanyl test strips"}
{"index":{"_index":"sou","_id":"3"}}
{"title":"欧盟就芯片出口管制发表声明","zh_words":"欧盟 就 芯片 出口 管制 发表 声明","zh_chars":"欧盟就芯片出口管制发表声明","en":"The EU issued a statement on chip export controls"}
EOF
t0=$(date +%s%N)
r=$(curl -s -m 30 -H 'Content-Type: application/x-ndjson' -X POST "${H[0]}/_bulk?refresh=true" --data-binary @/tmp/sou-bulk.ndjson)
t1=$(date +%s%N)
rm -f /tmp/sou-bulk.ndjson
echo "$r" | python3 -c 'import json,sys; sys.exit(1 if json.load(sys.stdin).get("errors", True) else 0)' && echo "bulk ok in $(( (t1 - t0) / 1000000 )) ms" || { echo "bulk failed: $r"; exit 1; }
j "${H[0]}/_cat/shards/sou?v"; echo

ids() { python3 -c 'import json,sys; print(",".join(sorted(h["_id"] for h in json.load(sys.stdin)["hits"]["hits"])))'; }
check() { # name node-index query-json expected-ids
  local got
  got=$(j "${H[$2]}/sou/_search" -d "$3" | ids)
  if [ "$got" = "$4" ]; then pass=$((pass + 1)); echo "ok   $1 via node-$(( $2 + 1 )) -> [$got]"
  else fail=$((fail + 1)); echo "FAIL $1 via node-$(( $2 + 1 )) -> [$got], want [$4]"; fi
}
for n in 0 1; do
  check "match zh_words 芬太尼"        $n '{"query":{"match":{"zh_words":"芬太尼"}}}'              2
  check "match zh_words 太尼 (none)"   $n '{"query":{"match":{"zh_words":"太尼"}}}'                ""
  check "match_phrase zh_chars 法医科学" $n '{"query":{"match_phrase":{"zh_chars":"法医科学"}}}'   1
  check "match_phrase zh_chars 科学法医" $n '{"query":{"match_phrase":{"zh_chars":"科学法医"}}}'   ""
  check "match en 'entity lists'"      $n '{"query":{"match":{"en":"entity lists"}}}'             1
  check "match en 'pharmacy selling'"  $n '{"query":{"match":{"en":{"query":"pharmacy selling","operator":"and"}}}}' 2
done

# Latency: LAT_N requests per query kind, one curl process for all (keep-alive), server 'took'.
lat() {
  local q=$1 f t0 t1 args=()
  for i in $(seq 1 "$LAT_N"); do
    [ "$i" -gt 1 ] && args+=(--next)   # --next: each request gets only its own -d
    args+=(-s -m 10 -H 'Content-Type: application/json' -d "$q" -o /dev/null "${H[0]}/sou/_search")
  done
  t0=$(date +%s%N); curl "${args[@]}"; t1=$(date +%s%N)
  printf 'latency %-60s %d requests: %.2f ms/request (client wall, keep-alive)\n' "$q" "$LAT_N" \
    "$(echo "($t1 - $t0) / 1000000 / $LAT_N" | bc -l)"
}
lat '{"query":{"match":{"zh_words":"芬太尼"}}}'
lat '{"query":{"match_phrase":{"zh_chars":"法医科学"}}}'
lat '{"query":{"match":{"en":"entity lists"}}}'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
