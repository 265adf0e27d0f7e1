// gf.datasets: the data sets gradforge can load without a network.
export { mnistDigits } from './mnist';
