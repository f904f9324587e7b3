// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A qBittorrent WebAPI v2 server driven by a client nobody here wrote, the npm
// package @ctrl/qbittorrent (pinned in package.json): what a user's scripts and
// web UIs do with Revaer's /api/v2. Two torrents from local seeders (one as a
// .torrent upload, one as a magnet) are added with a category and a save path,
// listed by category, watched to completion, given share limits, paused,
// resumed and removed with their data; every answer is checked.
//
//   node qbt-client.mjs --url URL --user U --password P --fixtures FILE --save-root DIR
//   node qbt-client.mjs --url URL --api-key KEY ...      (Bearer key instead of a login)
//
// FILE is what rv-qbt-fixtures.py wrote. DIR is a folder the server may save
// into, on this machine (the removal with data is checked on disk). Prints TAP
// lines without a plan ("ok - ..."); qbt-test.sh counts them. Exit 1 on failure.

import { File as BufferFile } from 'node:buffer';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { QBittorrent } from '@ctrl/qbittorrent';

// the client builds its upload with the global File of node 20; Debian 12's
// node 18 has the class only in node:buffer
globalThis.File ??= BufferFile;

const { values: opt } = parseArgs({
    options: {
        url: { type: 'string' },
        user: { type: 'string', default: '' },
        password: { type: 'string', default: '' },
        'api-key': { type: 'string' },
        fixtures: { type: 'string' },
        'save-root': { type: 'string' },
        timeout: { type: 'string', default: '120' },
    },
});
for (const required of ['url', 'fixtures', 'save-root']) {
    if (!opt[required]) {
        console.error(`qbt-client: --${required} is required`);
        process.exit(2);
    }
}

const fixtures = JSON.parse(readFileSync(opt.fixtures, 'utf8'));
const deadlineSeconds = Number(opt.timeout);
let failed = false;

function ok(what) {
    console.log(`ok - ${what}`);
}

function notOk(what, detail) {
    failed = true;
    console.log(`not ok - ${what}`);
    if (detail !== undefined) {
        for (const line of String(detail).split('\n')) {
            console.log(`# ${line}`);
        }
    }
}

function check(what, cond, detail) {
    if (cond) {
        ok(what);
    } else {
        notOk(what, detail);
    }
    return cond;
}

// one step: a failure (or a thrown error, e.g. an HTTP status) is reported and
// ends the run, since each step builds on the one before
async function step(what, fn) {
    try {
        const result = await fn();
        ok(what);
        return result;
    } catch (error) {
        notOk(what, error?.stack ?? error);
        throw new Error('stop');
    }
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

async function waitFor(what, fn, seconds = deadlineSeconds) {
    const deadline = Date.now() + seconds * 1000;
    let last;
    for (;;) {
        last = await fn();
        if (last.done) {
            return step(what, () => last.value);
        }
        if (Date.now() > deadline) {
            return step(what, () => {
                throw new Error(`timed out after ${seconds} s; last seen: ${JSON.stringify(last.value)}`);
            });
        }
        await sleep(200);
    }
}

const client = new QBittorrent({
    baseUrl: opt.url,
    username: opt.user,
    password: opt.password,
    apiKey: opt['api-key'],
    timeout: 30000,
});

// a name of this run's own: a run that stopped half-way leaves nothing in the next one's way
const category = `revaer-client-${process.pid}`;
const categoryPath = join(opt['save-root'], 'client-category');
const savePath = join(opt['save-root'], 'client');
const byFile = fixtures.torrents['client-file'];
const byMagnet = fixtures.torrents['client-magnet'];
const hashes = [byFile.hash, byMagnet.hash];

// qBittorrent 5 renamed paused* to stopped*; the facade picks one vocabulary
// per reported version, and the client follows the version it reads
const SEEDING = new Set(['uploading', 'stalledUP', 'queuedUP', 'forcedUP', 'checkingUP']);
const STOPPED_DONE = new Set(['pausedUP', 'stoppedUP']);

async function run() {
    const apiVersion = await step('app/webapiVersion answers', () => client.getApiVersion());
    check(`WebAPI version "${apiVersion}" is 2.x.y`, /^2\.\d+(\.\d+)?$/.test(apiVersion), apiVersion);
    const appVersion = await step('app/version answers', () => client.getAppVersion());
    check(`application version "${appVersion}" starts with v`, /^v\d+\.\d+/.test(appVersion), appVersion);
    const v5 = client.state.version?.isVersion5OrHigher ?? false;

    const prefs = await step('app/preferences answers', () => client.getPreferences());
    check('preferences have save_path', typeof prefs.save_path === 'string' && prefs.save_path.length > 0,
        JSON.stringify(prefs.save_path));

    await step(`createCategory "${category}" with a save path`, () => client.createCategory(category, categoryPath));
    const categories = await step('torrents/categories answers', () => client.getCategories());
    check(`category "${category}" is listed with its savePath`,
        categories[category]?.name === category && stripSlash(categories[category]?.savePath) === categoryPath,
        JSON.stringify(categories[category]));

    await step(`torrents/add of ${byFile.name}.torrent (upload) with category and savepath`, () =>
        client.addTorrent(readFileSync(byFile.torrent), {
            category,
            savepath: savePath,
            paused: 'false',
            filename: `${byFile.name}.torrent`,
        }));
    await step(`torrents/add of the magnet of ${byMagnet.name} with category and savepath`, () =>
        client.addMagnet(byMagnet.magnet, { category, savepath: savePath, paused: 'false' }));

    const listed = await waitFor(`both torrents are listed under category "${category}"`, async () => {
        const list = await client.listTorrents({ category });
        return { done: hashes.every(h => list.some(t => t.hash === h)), value: list };
    }, 30);
    for (const t of listed.filter(t => hashes.includes(t.hash))) {
        check(`${t.name}: hash is 40 lowercase hex`, /^[0-9a-f]{40}$/.test(t.hash), t.hash);
        check(`${t.name}: category is "${category}"`, t.category === category, t.category);
        check(`${t.name}: save_path is the one given`, stripSlash(t.save_path) === savePath, t.save_path);
    }
    const other = await client.listTorrents({ category: 'revaer-client-no-such' });
    check('an unknown category lists nothing of ours', !other.some(t => hashes.includes(t.hash)),
        JSON.stringify(other.map(t => t.hash)));

    for (const fx of [byFile, byMagnet]) {
        const done = await waitFor(`${fx.name} completes (progress 1, a seeding state)`, async () => {
            const [t] = await client.listTorrents({ hashes: fx.hash });
            return { done: t !== undefined && t.progress === 1 && SEEDING.has(t.state), value: t };
        });
        check(`${fx.name}: size is ${fx.size}`, done.size === fx.size, done.size);
        check(`${fx.name}: amount_left is 0`, done.amount_left === 0, done.amount_left);
        check(`${fx.name}: name is "${fx.name}"`, done.name === fx.name, done.name);
        const expected = join(savePath, fx.name);
        check(`${fx.name}: content_path is ${expected}`, stripSlash(done.content_path) === expected, done.content_path);
        check(`${fx.name}: content is on disk`, existsSync(expected), expected);
        const normalized = await client.getTorrent(fx.hash);
        check(`${fx.name}: the client's normalized view says completed`,
            normalized.isCompleted === true && normalized.progress === 1 && normalized.label === category,
            JSON.stringify({ isCompleted: normalized.isCompleted, state: normalized.state, label: normalized.label }));
    }
    const all = await step('the client gathers everything (getAllData)', () => client.getAllData());
    check(`getAllData counts 2 in label "${category}"`,
        all.labels.some(l => l.id === category && l.count === 2), JSON.stringify(all.labels));

    // no helper in the client for it: its own transport (session, re-login) does the call
    await step('torrents/setShareLimits ratio 1.5, 90 min', () =>
        client.request('/torrents/setShareLimits', 'POST', undefined, new URLSearchParams({
            hashes: hashes.join('|'),
            ratioLimit: '1.5',
            seedingTimeLimit: '90',
            inactiveSeedingTimeLimit: '-2',
        }), undefined, false));
    for (const t of (await client.listTorrents({ hashes })).filter(t => hashes.includes(t.hash))) {
        check(`${t.name}: ratio_limit is 1.5`, t.ratio_limit === 1.5, t.ratio_limit);
        check(`${t.name}: seeding_time_limit is 90`, t.seeding_time_limit === 90, t.seeding_time_limit);
    }

    // what web UIs keep their view with: a full update, then deltas by rid
    const full = await step('sync/maindata rid=0 answers', () => client.getSyncMainData(0));
    check('sync/maindata rid=0: full_update, a numeric rid, both torrents with category, the category, server_state',
        full.full_update === true && Number.isInteger(full.rid) && full.rid > 0
        && hashes.every(h => full.torrents?.[h]?.category === category)
        && full.categories?.[category] !== undefined && typeof full.server_state === 'object',
        JSON.stringify({ full_update: full.full_update, rid: full.rid, categories: full.categories,
            torrents: hashes.map(h => full.torrents?.[h]?.category) }));
    const unknownRid = await client.getSyncMainData(full.rid + 100000);
    check('sync/maindata with a rid it never gave: a full update',
        unknownRid.full_update === true && hashes.every(h => unknownRid.torrents?.[h] !== undefined),
        JSON.stringify({ full_update: unknownRid.full_update, rid: unknownRid.rid }));
    // the server keeps one state per session: deltas are against the last answer's rid
    const idle = await client.getSyncMainData(unknownRid.rid);
    // qBittorrent counts its answers, a server may count its changes instead: clients only send
    // back what they got, so the rid must not go backwards, and may stay when nothing changed
    check('sync/maindata delta: not a full update, a rid not below the last',
        !idle.full_update && Number.isInteger(idle.rid) && idle.rid >= unknownRid.rid,
        JSON.stringify({ full_update: idle.full_update, rid: idle.rid }));

    await step(`pause (${v5 ? 'torrents/stop' : 'torrents/pause'})`, () => client.pauseTorrent(hashes));
    await waitFor('both are paused, finished', async () => {
        const list = await client.listTorrents({ hashes });
        return { done: list.length === 2 && list.every(t => STOPPED_DONE.has(t.state)), value: list.map(t => t.state) };
    }, 30);
    const pausedDelta = await client.getSyncMainData(idle.rid);
    check('sync/maindata delta after the pause: both with their new state, nothing else needed',
        !pausedDelta.full_update && hashes.every(h => STOPPED_DONE.has(pausedDelta.torrents?.[h]?.state)),
        JSON.stringify({ full_update: pausedDelta.full_update, torrents: pausedDelta.torrents }));
    const pausedFilter = await client.listTorrents({ filter: 'paused', category });
    check('filter=paused lists both', hashes.every(h => pausedFilter.some(t => t.hash === h)),
        JSON.stringify(pausedFilter.map(t => t.hash)));

    await step(`resume (${v5 ? 'torrents/start' : 'torrents/resume'})`, () => client.resumeTorrent(hashes));
    await waitFor('both seed again', async () => {
        const list = await client.listTorrents({ hashes });
        return { done: list.length === 2 && list.every(t => SEEDING.has(t.state)), value: list.map(t => t.state) };
    }, 30);

    await step('torrents/delete with deleteFiles', () => client.removeTorrent(hashes, true));
    await waitFor('both are gone from the list', async () => {
        const list = await client.listTorrents();
        return { done: !list.some(t => hashes.includes(t.hash)), value: list.map(t => t.hash) };
    }, 30);
    const removedDelta = await client.getSyncMainData(pausedDelta.rid);
    check('sync/maindata delta after the removal: both in torrents_removed',
        hashes.every(h => removedDelta.torrents_removed?.includes(h)),
        JSON.stringify({ full_update: removedDelta.full_update, torrents_removed: removedDelta.torrents_removed }));
    await waitFor('their data is gone from disk', async () => {
        const left = [byFile, byMagnet].map(fx => join(savePath, fx.name)).filter(p => existsSync(p));
        return { done: left.length === 0, value: left };
    }, 30);
    await step(`removeCategory "${category}"`, () => client.removeCategory(category));
}

function stripSlash(p) {
    return typeof p === 'string' && p.length > 1 ? p.replace(/\/+$/, '') : p;
}

try {
    await run();
} catch (error) {
    if (error?.message !== 'stop') {
        notOk('the client run', error?.stack ?? error);
    }
    // what a failed run added goes, so that the runs after it start clean
    await client.removeTorrent(hashes, true).catch(() => {});
    await client.removeCategory(category).catch(() => {});
}
process.exit(failed ? 1 : 0);
