// The calendar feed (GET /v1/tenants/{tenant}/calendar.ics) of a real `tezgah serve`, read by an
// independent iCalendar parser, Mozilla's ical.js: the document parses, its lines are CRLF and at
// most 75 octets, and each event's start and end — computed by ical.js from the feed's own
// VTIMEZONE, not from a zone database of its own — are the instants booked, in a salon in
// Europe/Berlin across the spring-forward night and one in Europe/Istanbul; summaries name the
// service and the customer; a cancelled appointment is marked cancelled. Appointments are written
// into the database with the sqlite3 command line as the booking service stores them (schema 14);
// keys are made with `tezgah keys create`, as an operator would.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startServer, tezgah, root } = require('./lib/server');

const BERLIN = 'makas-kuafor';    // the shipped salon, moved to Berlin for this test
const ISTANBUL = 'makas-kadikoy';  // a copy of it that stays in Istanbul
const HOUR = 3600 * 1000;

let server;
let work;
const keys = {};

function sql(statement) {
  execFileSync('sqlite3', [path.join(work, 'tezgah.db'), statement]);
}

function keyFor(tenant, scopes) {
  return execFileSync(tezgah, ['keys', 'create', '--db', `sqlite:${path.join(work, 'tezgah.db')}`,
    '--tenant', tenant, '--scopes', scopes, '--name', 'calendar'], { encoding: 'utf8' }).trim();
}

/// One appointment row; `start` and `end` as ISO 8601 instants.
function book({ id, tenant, service, resource, start, end, name, status = 'confirmed' }) {
  const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
  const created = Date.parse('2027-03-01T09:00:00Z');
  sql('INSERT INTO appointments (id, tenant_id, service_id, resource_id, start_at, end_at, buffer_minutes, ' +
    'customer_name, customer_phone, notes, status, channel, user_id, conversation_id, created_at, updated_at) ' +
    `VALUES (${q(id)}, ${q(tenant)}, ${q(service)}, ${q(resource)}, ${Date.parse(start)}, ${Date.parse(end)}, 0, ` +
    `${q(name)}, '+905551112233', 'ilk kez; kısa kesim, lütfen', ${q(status)}, 'whatsapp-cloud', ` +
    `'905551112233', '', ${created}, ${created})`);
}

const booked = [
  // The night Berlin moves from 02:00 CET to 03:00 CEST (28 March 2027): one the day before (CET),
  // one across the change, one the day after (CEST).
  { id: 'apt_0000000000000b01', tenant: BERLIN, service: 'kadin-sac-kesim', resource: 'selin',
    start: '2027-03-27T09:00:00Z', end: '2027-03-27T10:00:00Z', name: 'Anna Müller',
    wallStart: '2027-03-27T10:00:00', wallEnd: '2027-03-27T11:00:00' },
  { id: 'apt_0000000000000b02', tenant: BERLIN, service: 'tum-boya', resource: 'selin',
    start: '2027-03-28T00:30:00Z', end: '2027-03-28T02:30:00Z', name: 'Jonas Weiß',
    wallStart: '2027-03-28T01:30:00', wallEnd: '2027-03-28T04:30:00' },
  { id: 'apt_0000000000000b03', tenant: BERLIN, service: 'erkek-sac-kesim', resource: 'burak',
    start: '2027-03-29T08:00:00Z', end: '2027-03-29T08:30:00Z', name: 'Lena Schulz',
    wallStart: '2027-03-29T10:00:00', wallEnd: '2027-03-29T10:30:00' },
  { id: 'apt_0000000000000b04', tenant: BERLIN, service: 'fon', resource: 'selin', status: 'cancelled',
    start: '2027-03-30T13:00:00Z', end: '2027-03-30T13:30:00Z', name: 'Paul Wagner',
    wallStart: '2027-03-30T15:00:00', wallEnd: '2027-03-30T15:30:00' },
  // Istanbul keeps +03 all year.
  { id: 'apt_0000000000000i01', tenant: ISTANBUL, service: 'kadin-sac-kesim', resource: 'selin',
    start: '2027-03-28T07:00:00Z', end: '2027-03-28T08:00:00Z', name: 'Ayşe Yılmaz',
    wallStart: '2027-03-28T10:00:00', wallEnd: '2027-03-28T11:00:00' },
];

test.before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tezgah-ics-'));
  // The tenants first (startServer keeps a folder it finds), then the database with keys and rows.
  const tenants = path.join(work, 'tenants');
  fs.cpSync(path.join(root, 'tenants'), tenants, { recursive: true });
  fs.cpSync(path.join(tenants, BERLIN), path.join(tenants, ISTANBUL), { recursive: true });
  for (const [id, zone] of [[BERLIN, 'Europe/Berlin'], [ISTANBUL, 'Europe/Istanbul']]) {
    const file = path.join(tenants, id, 'tenant.json');
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
    manifest.id = id;
    manifest.locale.timezone = zone;
    fs.writeFileSync(file, JSON.stringify(manifest, null, 2));
  }
  keys.berlin = keyFor(BERLIN, 'calendar:read');
  keys.istanbul = keyFor(ISTANBUL, 'calendar:read');
  keys.broad = keyFor(BERLIN, 'calendar:read,appointments:write');
  for (const a of booked) book(a);
  server = await startServer({ work, args: ['--clock', '2027-03-20T10:00:00+01:00'] });
});
test.after(async () => { if (server) await server.stop(); });

async function feed(tenant, key) {
  const res = await fetch(`${server.url}/v1/tenants/${tenant}/calendar.ics?key=${encodeURIComponent(key)}`);
  return { res, text: await res.text() };
}

/// Every physical line: CRLF-terminated and at most 75 octets.
function checkLines(text) {
  assert.ok(text.endsWith('\r\n'), 'the last line ends in CRLF');
  const lines = text.split('\r\n').slice(0, -1);
  for (const line of lines) {
    assert.ok(!line.includes('\n') && !line.includes('\r'), `a bare line break in ${JSON.stringify(line)}`);
    assert.ok(Buffer.byteLength(line, 'utf8') <= 75, `${Buffer.byteLength(line, 'utf8')} octets: ${line}`);
  }
  assert.ok(lines.some((l) => l.startsWith(' ')), 'some long line was folded');
}

async function parse(text) {
  const ICAL = (await import('ical.js')).default;
  return { ICAL, calendar: new ICAL.Component(ICAL.parse(text)) };
}

for (const [label, tenant, zone] of [['Berlin, across the change to summer time', BERLIN, 'Europe/Berlin'],
  ['Istanbul', ISTANBUL, 'Europe/Istanbul']]) {
  test(`the feed of a salon in ${label} parses, and every event is at the instant booked`, async () => {
    const { res, text } = await feed(tenant, tenant === BERLIN ? keys.berlin : keys.istanbul);
    assert.equal(res.status, 200, text);
    assert.equal(res.headers.get('content-type'), 'text/calendar; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'private, max-age=60');
    checkLines(text);

    const { ICAL, calendar } = await parse(text);
    assert.equal(calendar.name, 'vcalendar');
    assert.equal(calendar.getFirstPropertyValue('version'), '2.0');
    assert.ok(calendar.getFirstPropertyValue('prodid'));
    assert.equal(calendar.getFirstPropertyValue('x-wr-timezone'), zone);
    assert.match(calendar.getFirstPropertyValue('x-wr-calname'), /Makas Kuaför/);
    const vtimezones = calendar.getAllSubcomponents('vtimezone');
    assert.equal(vtimezones.length, 1);
    assert.equal(vtimezones[0].getFirstPropertyValue('tzid'), zone);

    const expected = booked.filter((a) => a.tenant === tenant);
    const events = calendar.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
    assert.equal(events.length, expected.length);
    for (const a of expected) {
      const event = events.find((e) => e.uid === `${a.id}@${tenant}.tezgah`);
      assert.ok(event, `${a.id} is in the feed`);
      // The times are wall times in the feed's own VTIMEZONE...
      assert.equal(event.startDate.zone.tzid, zone);
      assert.equal(event.startDate.zone.component, vtimezones[0], 'the zone is the one the feed describes');
      assert.equal(event.startDate.toString(), a.wallStart);
      assert.equal(event.endDate.toString(), a.wallEnd);
      // ... that ical.js turns into the instants booked.
      assert.equal(event.startDate.toUnixTime() * 1000, Date.parse(a.start), `${a.id} start`);
      assert.equal(event.endDate.toUnixTime() * 1000, Date.parse(a.end), `${a.id} end`);
      assert.match(event.summary, new RegExp(` — ${a.name}$`));
      assert.equal(event.location, 'Kıbrıs Şehitleri Caddesi No:48, Alsancak, Konak, İzmir');
      assert.match(event.description, /Not: ilk kez; kısa kesim, lütfen/);
      const status = event.component.getFirstPropertyValue('status');
      assert.equal(status, a.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED', `${a.id} status`);
    }
  });
}

test('the service is named as the salon names it', async () => {
  const { text } = await feed(BERLIN, keys.berlin);
  const { ICAL, calendar } = await parse(text);
  const summaries = calendar.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v).summary);
  const offerings = JSON.parse(fs.readFileSync(path.join(root, 'tenants', BERLIN, 'data', 'offerings.json'), 'utf8'));
  const name = offerings.find((o) => o.id === 'kadin-sac-kesim').name;
  assert.ok(summaries.includes(`${name} — Anna Müller`), summaries.join('\n'));
});

test('a key with more than calendar:read is refused in the URL', async () => {
  const { res, text } = await feed(BERLIN, keys.broad);
  assert.equal(res.status, 403, text);
  assert.match(JSON.parse(text).error.message, /calendar:read/);
  const other = await feed(BERLIN, keys.istanbul);
  assert.equal(other.res.status, 403, 'another salon\'s key');
});
