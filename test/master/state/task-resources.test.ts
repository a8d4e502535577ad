import { expect } from 'chai';
import { taskResources } from '../../../master/state/task-resources.js';
import { type Resource, ResourceError } from '../../../sdk/resources/resources.js';

const scalar = (name: string, value: number, role?: string): Resource => ({
  name,
  type: 'SCALAR',
  scalar: { value },
  ...(role ? { role } : {}),
});

describe('master/state/task-resources: one Resources per distinct task resource list', () => {
  it('shares the value between tasks of the same scalar list, and only those', () => {
    const a = taskResources([scalar('cpus', 0.1), scalar('mem', 32)]);
    expect(taskResources([scalar('cpus', 0.1), scalar('mem', 32)])).to.equal(a);
    expect(a.toString()).to.equal('cpus:0.1;mem:32');
    expect(taskResources([scalar('cpus', 0.2), scalar('mem', 32)])).to.not.equal(a);
    expect(taskResources([scalar('cpus', 0.1, 'web'), scalar('mem', 32)])).to.not.equal(a);
    expect(taskResources([scalar('cpus', 0.1, 'web'), scalar('mem', 32)]).toString()).to.equal('cpus(web):0.1;mem:32');
  });

  it('still refuses an invalid list, even one whose text would look like a shared one', () => {
    taskResources([scalar('cpus', 0.1), scalar('mem', 32)]);
    expect(() => taskResources([scalar('cpus', -1)])).to.throw(ResourceError);
    // A name holding what separates entries in a naive key: not a valid name, never the shared value.
    expect(() => taskResources([scalar('cpus:0.1;mem', 32)])).to.throw(ResourceError);
    expect(() => taskResources([scalar('cpus\u0000*\u00000.1\u0001mem', 32)])).to.throw(ResourceError);
  });

  it('builds lists with ranges or sets as before (not shared)', () => {
    const ports: Resource = { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31000 }] } };
    const a = taskResources([scalar('cpus', 1), ports]);
    expect(taskResources([scalar('cpus', 1), ports])).to.not.equal(a);
    expect(a.toString()).to.equal('cpus:1;ports:[31000-31000]');
  });
});
