// Loads a player page in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), waits for its <video> to play, seeks to SEEK seconds, and waits for
// playback to go on past that point. Prints one JSON line: what the video reported.
// Usage: node play_and_seek.js PAGE_URL SEEK USER_DATA_DIR HOST_RESOLVER_RULES
const { launch } = require('./launch');

const [url, seekArg, userDataDir, hostRules] = process.argv.slice(2);
const seek = Number(seekArg);

(async () => {
  const context = await launch(userDataDir, [`--host-resolver-rules=${hostRules}`]);
  try {
    const page = context.pages()[0] || (await context.newPage());
    await page.goto(url, { timeout: 30000 });
    await page.waitForFunction(() => {
      const v = document.querySelector('video');
      if (v && v.error) throw new Error(`video error ${v.error.code}: ${v.error.message}`);
      return v && v.currentTime > 0.5;
    }, null, { timeout: 30000, polling: 100 });
    const before = await page.evaluate(() => document.querySelector('video').currentTime);
    await page.evaluate((at) => { document.querySelector('video').currentTime = at; }, seek);
    await page.waitForFunction((at) => {
      const v = document.querySelector('video');
      if (v.error) throw new Error(`video error ${v.error.code}: ${v.error.message}`);
      return !v.seeking && !v.paused && v.currentTime > at + 1;
    }, seek, { timeout: 30000, polling: 100 });
    const after = await page.evaluate(() => {
      const v = document.querySelector('video');
      return { currentTime: v.currentTime, duration: v.duration, src: v.currentSrc };
    });
    console.log(JSON.stringify({ before, after }));
  } finally {
    await context.close();
  }
})().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
