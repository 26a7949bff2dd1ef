import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signInAsAdmin, watchErrors } from './support';

/** The `d` of the first line of a chart, empty while it has none. */
async function line(page: Page, chart: string): Promise<string> {
  const path = page.getByTestId(`chart-${chart}`).locator('path.line').first();
  return (await path.count()) ? (await path.getAttribute('d')) ?? '' : '';
}

test('the monitoring charts render each version with data, update live and show values on hover', async ({ page }) => {
  test.setTimeout(60_000);
  const errors = watchErrors(page);
  await signInAsAdmin(page);
  await page.goto('/monitoring?env=production&app=storefront&range=5m');
  await expect(page.getByTestId('metrics-source')).toContainText('answering');
  // The server's own Prometheus scrapes every second; its first samples come a few seconds after start.
  await expect.poll(() => line(page, 'requests'), { timeout: 30_000 }).toMatch(/L/);
  const requests = page.getByTestId('chart-requests');
  await expect(requests.locator('.legend')).toContainText(/v1 [0-9.]+ req\/s/);
  for (const chart of ['errors', 'latency', 'cpu', 'memory', 'conversion']) {
    await expect(page.getByTestId(`chart-${chart}`).locator('svg[role=img]')).toBeVisible();
  }
  await expect(page.getByTestId('chart-latency').locator('.legend')).toContainText('v1 p95');
  await expect(requests.locator('text.unit')).toHaveText('req/s');

  const before = await line(page, 'requests');
  await expect.poll(() => line(page, 'requests'), { timeout: 10_000 }).not.toBe(before);

  await requests.locator('.chart-hit').hover({ position: { x: 380, y: 80 } });
  await expect(requests.locator('.chart-tip')).toContainText(/v1: [0-9.]+ req\/s/);

  await page.getByRole('link', { name: '15m' }).click();
  await expect(page).toHaveURL(/range=15m/);
  await expect.poll(() => line(page, 'requests'), { timeout: 10_000 }).toMatch(/L/);
  expect(errors).toEqual([]);
});

test('a bad canary is rolled back by its background analysis while the page shows why', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = watchErrors(page);
  await signInAsAdmin(page);
  await page.goto('/deployments?env=staging');
  const panel = page.getByTestId('app-storefront');
  const form = panel.getByTestId('deploy-form');
  await form.getByText('Deploy a version').click();
  await form.getByLabel('Version (image tag)').fill('v3');
  await form.getByLabel('Strategy').selectOption('canary');
  await form.getByLabel('Step 2: value').fill('');
  await form.getByLabel('Background analysis (optional)').fill('error-rate');
  await form.getByRole('button', { name: 'Deploy', exact: true }).click();
  await expect(form.getByText('Deployment started.')).toBeVisible();

  // v3 answers 15% of its requests with a 500: the analysis fails and rolls it back by itself.
  const deployment = panel.getByTestId('deployment');
  await expect(deployment).toContainText('Rolled back', { timeout: 60_000 });
  const timeline = panel.getByText(/Rolled back to snapshot #\d+ by analysis/);
  await expect(timeline).toContainText('automated rollback: background analysis');
  await expect(timeline).toContainText('error-rate/error-rate');
  await expect(timeline).toContainText('result < 1');
  await expect(panel.getByTestId('run-phase').first()).toHaveText('✗ Failed');
  await expect(panel.getByTestId('metric-error-rate/error-rate').locator('.threshold')).toHaveCount(1);
  expect(errors).toEqual([]);
});

test('an operator edits an analysis template, and a bad one is refused by field', async ({ page }) => {
  const errors = watchErrors(page);
  await signInAsAdmin(page);
  await page.goto('/analysis?edit=new');
  const editor = page.getByTestId('template-editor');
  await editor.getByLabel('Name', { exact: true }).fill('checkout-up');
  await editor.getByLabel('Metric name').fill('visits');
  await editor.getByLabel('PromQL').fill('sum(rate(checkout_visits_total{app="{{app}}"}[1m]))');
  await editor.getByLabel('Every (s)').fill('0');
  await editor.getByLabel('Passes when').fill('result > 0');
  await editor.getByRole('button', { name: 'Save template' }).click();
  await expect(editor.getByRole('alert')).toHaveText(/metrics\[0\]\.interval: measure every 1 to 3600 seconds/);
  await editor.getByLabel('Every (s)').fill('5');
  await editor.getByRole('button', { name: 'Save template' }).click();
  await expect(editor.getByText('Template saved.')).toBeVisible();
  await expect(page.getByTestId('template-checkout-up')).toContainText('passes when result > 0');
  expect(errors).toEqual([]);
});

test('the monitoring and analysis pages pass an accessibility check', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAsAdmin(page);
  for (const path of ['/monitoring?env=production', '/analysis']) {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
    const results = await new AxeBuilder({ page }).analyze();
    expect(results.violations.map((v) => `${path}: ${v.id}: ${v.help}`)).toEqual([]);
  }
  await context.close();
});
