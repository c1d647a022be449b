// Plays an HLS stream with hls.js in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): a page on the server's own origin gets a <video> and hls.js (the npm
// file), plays the playlist, seeks to SEEK seconds, and waits for playback to go on past that
// point. Prints one JSON line: the times the video reported and the segments hls.js loaded.
// Usage: node hls_play_and_seek.js PLAYLIST_URL SEEK USER_DATA_DIR HLS_JS_FILE
const { launch } = require('./launch');

const [playlist, seekArg, userDataDir, hlsJs] = process.argv.slice(2);
const seek = Number(seekArg);

(async () => {
  const context = await launch(userDataDir, []);
  try {
    const page = context.pages()[0] || (await context.newPage());
    // Any page of the server gives the player its origin (its answer here is a short 404).
    await page.goto(new URL('/', playlist).href, { timeout: 30000 });
    await page.setContent('<video id="player" muted playsinline width="320" height="240"></video>');
    await page.addScriptTag({ path: hlsJs });
    const support = await page.evaluate((url) => {
      window.segments = [];
      window.failure = null;
      const video = document.getElementById('player');
      const hls = new Hls({ enableWorker: false });
      hls.on(Hls.Events.FRAG_LOADED, (_, data) => window.segments.push(data.frag.url));
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (data.fatal) window.failure = `${data.type}: ${data.details}`;
      });
      hls.loadSource(url);
      hls.attachMedia(video);
      hls.on(Hls.Events.MANIFEST_PARSED, () => video.play());
      return { hls: Hls.isSupported(), h264: MediaSource.isTypeSupported('video/mp4; codecs="avc1.640028,mp4a.40.2"') };
    }, playlist);
    const check = () => {
      const v = document.getElementById('player');
      if (window.failure) throw new Error(`hls.js: ${window.failure}`);
      if (v.error) throw new Error(`video error ${v.error.code}: ${v.error.message}`);
      return v;
    };
    await page.waitForFunction(`(${check})().currentTime > 0.5`, null, { timeout: 30000, polling: 100 });
    const before = await page.evaluate(() => document.getElementById('player').currentTime);
    await page.evaluate((at) => { document.getElementById('player').currentTime = at; }, seek);
    await page.waitForFunction(
      `(() => { const v = (${check})(); return !v.seeking && !v.paused && v.currentTime > ${seek + 1}; })()`,
      null, { timeout: 30000, polling: 100 });
    const after = await page.evaluate(() => {
      const v = document.getElementById('player');
      return { currentTime: v.currentTime, duration: v.duration };
    });
    const segments = await page.evaluate(() => window.segments);
    console.log(JSON.stringify({ support, before, after, segments }));
  } finally {
    await context.close();
  }
})().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
