import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { baseURL } from '../playwright.config';
import { signInAsAdmin as signIn, watchErrors } from './support';

/** MurmurHash3 x86 32-bit over UTF-8, as Unleash buckets users: the test's own oracle. */
function murmur3(text: string, seed = 0): number {
  const bytes = Buffer.from(text, 'utf8');
  let h = seed >>> 0;
  const c1 = 0xcc9e2d51, c2 = 0x1b873593;
  const mix = (k: number) => Math.imul(((k = Math.imul(k, c1)) << 15) | (k >>> 17), c2);
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) {
    h ^= mix(bytes.readUInt32LE(i));
    h = ((h << 13) | (h >>> 19));
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let j = bytes.length - i - 1; j >= 0; j--) k = (k << 8) | bytes[i + j];
  if (bytes.length - i > 0) h ^= mix(k);
  h ^= bytes.length;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
const inRollout = (flag: string, user: string, percent: number) => (murmur3(`${flag}:${user}`) % 100) + 1 <= percent;

test('create a flag, target Beta Testers at 30%, switch it on in production, and read it through an OpenFeature provider', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page);

  // An SDK key for production, shown once.
  await page.goto('/settings/sdk-keys');
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Environment').selectOption('production');
  await page.getByLabel('Name').fill('storefront-web');
  await page.getByRole('button', { name: 'Create key' }).click();
  const sdkKey = (await page.getByTestId('new-sdk-key').textContent())!.trim();
  expect(sdkKey).toMatch(/^varai_sdk_/);

  // A real OpenFeature provider, as an application would use it.
  const provider = new OFREPProvider({ baseUrl: baseURL, headers: { Authorization: `Bearer ${sdkKey}` } });
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();

  // Create the flag.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Flags' }).click();
  await page.getByRole('link', { name: 'New flag' }).click();
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Key').fill('e2e-checkout');
  await page.getByLabel('Name', { exact: true }).fill('E2E checkout');
  await page.getByLabel('Tags (comma-separated)').fill('checkout, e2e');
  await page.getByRole('button', { name: 'Create flag' }).click();
  await expect(page.getByTestId('flag-key')).toHaveText('e2e-checkout');
  await page.waitForLoadState('networkidle');

  // Off in production: the provider gets the off variant.
  const before = await client.getBooleanDetails('e2e-checkout', true, { targetingKey: 'someone', cohort: 'beta' });
  expect([before.value, before.reason, before.variant]).toEqual([false, 'DISABLED', 'off']);

  // A rule in production: Beta Testers, 30%.
  await page.getByRole('tab', { name: /Production/ }).click();
  await page.getByRole('button', { name: '+ Add rule' }).click();
  const rule = page.getByRole('listitem', { name: 'Rule 1' });
  await rule.getByLabel('Beta Testers').check();
  await rule.getByLabel(/Rollout/).fill('30');
  await expect(rule.getByText('30% of matching users')).toBeVisible();
  await page.getByLabel('When on and no rule matches, serve').selectOption('off');

  // Review the change, then save it.
  await page.getByRole('button', { name: 'Review changes' }).click();
  await expect(page.getByRole('region', { name: 'What saving will change' })).toContainText('"rollout": 30');
  await page.getByRole('button', { name: 'Save flag' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved as version 2' })).toBeVisible();

  // Try it, in the browser: production is still off.
  await page.getByLabel('Environment', { exact: true }).last().selectOption('production');
  await expect(page.getByTestId('try-reason')).toHaveText('DISABLED');

  // Switch it on in production from the list, in one click.
  await page.goto('/flags');
  await page.waitForLoadState('networkidle');
  const sw = page.getByRole('switch', { name: 'e2e-checkout in Production' });
  await expect(sw).toHaveAttribute('aria-checked', 'false');
  await sw.click();
  await expect(sw).toHaveAttribute('aria-checked', 'true');
  await page.reload();
  await expect(page.getByRole('switch', { name: 'e2e-checkout in Production' })).toHaveAttribute('aria-checked', 'true');

  // The provider now sees the rollout: exactly the beta users inside the 30% bucket.
  const users = Array.from({ length: 40 }, (_, i) => `shopper-${i}`);
  const inside = users.filter((u) => inRollout('e2e-checkout', u, 30));
  expect(inside.length).toBeGreaterThan(3);
  await expect.poll(async () => (await client.getBooleanDetails('e2e-checkout', false, { targetingKey: inside[0], cohort: 'beta' })).value, { timeout: 1000 }).toBe(true);
  for (const user of users) {
    const d = await client.getBooleanDetails('e2e-checkout', false, { targetingKey: user, cohort: 'beta' });
    expect(d.value, user).toBe(inRollout('e2e-checkout', user, 30));
    if (d.value) expect([d.reason, d.variant, d.flagMetadata.rule]).toEqual(['SPLIT', 'on', 1]);
    const ga = await client.getBooleanDetails('e2e-checkout', true, { targetingKey: user, cohort: 'ga' });
    expect(ga.value, `${user} outside Beta Testers`).toBe(false);
  }
  const missing = await client.getBooleanDetails('no-such-flag', true, { targetingKey: 'x' });
  expect([missing.value, missing.errorCode]).toEqual([true, 'FLAG_NOT_FOUND']);
  await OpenFeature.close();

  // The change history is on the flag's page.
  await page.getByRole('link', { name: 'E2E checkout' }).click();
  await expect(page.getByTestId('flag-history')).toContainText('flag.toggle');
  await expect(page.getByTestId('flag-history')).toContainText('flag.update');
  expect(errors).toEqual([]);
});

test('a concurrent edit is refused with a message instead of overwriting', async ({ page, browser }) => {
  await signIn(page);
  await page.goto('/flags/e2e-checkout');
  await page.waitForLoadState('networkidle');
  const other = await browser.newPage();
  await signIn(other);
  await other.goto('/flags/e2e-checkout');
  await other.waitForLoadState('networkidle');
  await other.getByLabel('Owner').fill('payments');
  await other.getByLabel('Owner').blur();
  await other.getByRole('button', { name: 'Save flag' }).click();
  await expect(other.getByRole('status').filter({ hasText: 'Saved as version' })).toBeVisible();

  await page.getByLabel('Owner').fill('growth');
  await page.getByLabel('Owner').blur();
  await page.getByRole('button', { name: 'Save flag' }).click();
  await expect(page.getByRole('alert')).toContainText('was changed by admin since you loaded it');
  await other.close();
});

test('segments show who matches and where they are used', async ({ page }) => {
  await signIn(page);
  await page.goto('/segments');
  await expect(page.getByRole('row', { name: /Beta Testers/ })).toContainText('e2e-checkout (production)');
  await page.getByRole('link', { name: 'Beta Testers' }).click();
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Context (JSON, as applications send it)').fill('{"targetingKey": "u1", "cohort": "alpha"}');
  await expect(page.getByTestId('segment-verdict')).toHaveText('✓ This context is in the segment');
  await page.getByLabel('Context (JSON, as applications send it)').fill('{"targetingKey": "u1", "cohort": "ga"}');
  await expect(page.getByTestId('segment-verdict')).toHaveText('✕ This context is not in the segment');
  await expect(page.getByRole('region', { name: 'Used by' })).toContainText('e2e-checkout (production)');
});

test('the flag pages pass an accessibility check', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page);
  for (const path of ['/flags', '/flags/e2e-checkout', '/segments', '/segments/internal']) {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
    const results = await new AxeBuilder({ page }).analyze();
    expect(results.violations.map((v) => `${path}: ${v.id}: ${v.help}`)).toEqual([]);
  }
  await context.close();
});

test('a switch the server refuses flips back and says why', async ({ page }) => {
  await signIn(page);
  await page.goto('/settings/users');
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Username').fill('vera');
  await page.getByLabel('Initial password').fill('vera-password-1234');
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByRole('status')).toContainText('Created vera');
  await page.getByRole('button', { name: 'Sign out' }).click();

  await page.getByLabel('Username').fill('vera');
  await page.getByLabel('Password').fill('vera-password-1234');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto('/flags');
  await page.waitForLoadState('networkidle');
  const sw = page.getByRole('switch', { name: 'e2e-checkout in Development' });
  await expect(sw).toHaveAttribute('aria-checked', 'false');
  await sw.click();
  await expect(page.getByRole('alert')).toContainText('needs the developer role');
  await expect(sw).toHaveAttribute('aria-checked', 'false');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the flag switch still works as a form', async ({ page }) => {
    await signIn(page);
    await page.goto('/flags');
    const sw = page.getByRole('switch', { name: 'e2e-checkout in Staging' });
    await expect(sw).toHaveAttribute('aria-checked', 'false');
    await sw.click();
    await expect(page.getByRole('switch', { name: 'e2e-checkout in Staging' })).toHaveAttribute('aria-checked', 'true');
  });
});

test('an admin adds an environment and imports Unleash toggles into it', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page);
  await page.goto('/settings/environments');
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Key').fill('qa');
  await page.getByLabel('Name', { exact: true }).fill('QA');
  await page.getByRole('button', { name: 'Add environment' }).click();
  await expect(page.getByRole('status')).toContainText('Environment added');
  await expect(page.getByRole('table', { name: 'Environments' })).toContainText('qa');

  await page.goto('/settings/import');
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Environment').selectOption('qa');
  const doc = {
    version: 2,
    segments: [{ id: 1, constraints: [{ contextName: 'country', operator: 'IN', values: ['NO'] }] }],
    features: [
      { name: 'legacy.banner', enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '100', stickiness: 'default', groupId: 'legacy.banner' }, segments: [1] }] },
      { name: 'legacy.custom', enabled: true, strategies: [{ name: 'byTenant', parameters: {} }] },
    ],
  };
  await page.getByLabel('Unleash document (JSON)').fill(JSON.stringify(doc));
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByRole('status')).toContainText('Imported into qa: 2 created, 0 updated, 1 segments');
  await expect(page.getByRole('status')).toContainText("custom strategy 'byTenant'");

  // The environment is in use now, so removing it is refused with the reason.
  await page.goto('/settings/environments');
  await page.waitForLoadState('networkidle');
  await page.getByRole('button', { name: 'Remove QA' }).click();
  await expect(page.getByRole('alert')).toContainText("'qa' is still used by flags legacy.banner (on, 1 rules)");
  // The refusal itself is a 409 the browser logs; nothing else may fail.
  expect(errors.filter((e) => !e.includes('status of 409'))).toEqual([]);
});
