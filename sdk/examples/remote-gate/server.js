// A remote admission plugin for psahost (isolation "remote"), in Node.js with no packages.
// psahost POSTs each hook call here as its JSON hook document, signed the Standard Webhooks way
// with the secret `psahost plugins secret remote-gate` printed; this checks the signature and the
// timestamp, then answers the review: time entries over MAX_MINUTES are not approved.
//
//   PORT=8443 CERT=cert.pem KEY=key.pem SECRET=whsec_... MAX_MINUTES=600 node server.js
'use strict';
const https = require('node:https');
const crypto = require('node:crypto');
const fs = require('node:fs');

const secret = process.env.SECRET || '';
if (!secret.startsWith('whsec_')) {
  console.error('SECRET must be the whsec_... secret psahost issued for this plugin');
  process.exit(2);
}
const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
const maxMinutes = Number(process.env.MAX_MINUTES || 600);
const replayWindowSeconds = 300;
const maxBodyBytes = 1 << 20;

// True when one of the space-separated "v1,<base64>" entries is the HMAC of id.timestamp.body.
function verified(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return false;
  const age = Math.abs(Date.now() / 1000 - Number(timestamp));
  if (!Number.isFinite(age) || age > replayWindowSeconds) return false;
  const expected = crypto.createHmac('sha256', key)
    .update(`${id}.${timestamp}.`).update(body).digest();
  return signatures.split(' ').some((entry) => {
    if (!entry.startsWith('v1,')) return false;
    const given = Buffer.from(entry.slice(3), 'base64');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
}

function review(doc) {
  if (doc.operation === 'time_entry.approve' && Number(doc.object?.minutes) > maxMinutes) {
    return {
      allowed: false,
      type: 'time-entry-too-long',
      reason: `A time entry of more than ${maxMinutes} minutes needs a second look before approval.`,
    };
  }
  return { allowed: true };
}

function answer(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = https.createServer({
  cert: fs.readFileSync(process.env.CERT),
  key: fs.readFileSync(process.env.KEY),
}, (req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > maxBodyBytes) req.destroy();
    else chunks.push(chunk);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.method !== 'POST' || !verified(req.headers, body)) {
      return answer(res, 401, { error: { message: 'signature missing, stale or wrong' } });
    }
    let doc;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(res, 400, { error: { message: 'the hook document is not JSON' } });
    }
    if (req.headers['psa-hook'] !== 'admission.review') {
      return answer(res, 404, { error: { message: `no hook ${req.headers['psa-hook']}` } });
    }
    answer(res, 200, review(doc));
  });
});
server.listen(Number(process.env.PORT || 8443), '127.0.0.1', () => {
  console.log(`remote-gate listening on ${server.address().port}`);
});
