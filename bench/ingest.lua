-- wrk script: POSTs one ~1 KiB JSON body (BODY) with a different Standard Webhooks id and
-- signature on every request, read from SIGNED (lines "webhook-id signature", made by
-- psahost_bench_sign for WH_TS), so each request is a new delivery the host must verify and commit.
local ids, sigs, n, i = {}, {}, 0, 0
for line in io.lines(os.getenv("SIGNED")) do
  local id, sig = line:match("^(%S+) (%S+)$")
  n = n + 1; ids[n] = id; sigs[n] = sig
end
local body, ts = os.getenv("BODY"), os.getenv("WH_TS")
request = function()
  i = i % n + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["webhook-id"] = ids[i],
    ["webhook-timestamp"] = ts,
    ["webhook-signature"] = sigs[i],
  }, body)
end
